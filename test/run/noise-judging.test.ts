// Judging with the machine's noise in view (issue 13), end to end on the reference app: the
// machine is watched during every suite and scenario (its record lands in summary.json), a
// time-dependent budget broken on a machine called saturated is run again and ends
// INCONCLUSIVE (exit 2, in every output), a budget that does not depend on time is a FAIL
// however busy the machine, and on a machine called quiet a broken budget is a plain FAIL.
// Whether the machine "is" saturated is set through the config's thresholds (0: always;
// beyond reach: never), so each outcome is forced and none depends on this machine's load.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { planRun, runPlan } from '../../harness/index.ts';
import { runCli } from '../support/cli.ts';
import { writeReferenceConfig } from '../support/reference-config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('noise-judging');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

const ALWAYS_SATURATED = { probeP99Ms: 0, cpuPressure: 0, windowShare: 0, windowBuckets: 1 };
const NEVER_SATURATED = { probeP99Ms: 10_000, cpuPressure: 1, othersShare: 1 };
/** A p99 no server meets: the budget breaks in every attempt. */
const impossibleLatency = {
  'by-id': {
    request: 'GET /inspections/{id}',
    ids: { from: 1, to: 80 },
    rate: 40,
    durationMs: 1500,
    budgets: 'p99=0.001ms',
  },
};

/** A config for the reference app with the machine watched, as `noise` in the body says. */
const config = (name: string, body: object, env?: Record<string, string>) =>
  writeReferenceConfig(dir, name, body, { env, watchMachine: true });

test('a latency budget broken on a saturated machine is tried again, then INCONCLUSIVE: exit 2, and so in every output', async () => {
  const { file, results } = config('inconclusive', {
    scenarios: impossibleLatency,
    noise: { retries: 1, saturation: ALWAYS_SATURATED },
  });
  const cli = await runCli(['gate', '--config', file]);
  expect(cli.code, cli.stderr).toBe(2);
  expect(cli.stderr).toContain('load by-id: 1 time-dependent budget(s) broke while the machine was saturated');
  expect(cli.stderr).toContain('attempt 2 of 2');
  const line = cli.stderr.split('\n').find((l) => l.includes('INCONCLUSIVE'))!;
  expect(line).toMatch(
    /^dbproof: INCONCLUSIVE: the machine was too busy to measure 1 budget\(s\) in any attempt \(load by-id: /,
  );
  expect(line).toContain('noise.retries');
  expect(cli.stdout).toMatch(/^INCONCLUSIVE load by-id$/m);
  expect(cli.stdout).toMatch(/^INCONCLUSIVE: 0 of 1 budgets hold/m);

  const latest = path.join(results, 'latest');
  const summary = JSON.parse(readFileSync(path.join(latest, 'summary.json'), 'utf8'));
  expect(summary).toMatchObject({ pass: false, inconclusive: true, incomplete: false });
  expect(summary.verdicts).toEqual([
    expect.objectContaining({
      source: 'load by-id',
      pass: false,
      inconclusive: true,
      evidence: expect.stringMatching(/^the machine was saturated: \d+ of \d+ buckets saturated/),
    }),
  ]);
  // Every attempt is kept: the first as an earlier attempt, the second as the one that counts.
  expect(summary.earlierAttempts).toEqual([
    expect.objectContaining({ source: 'load by-id', attempt: 1, noise: expect.objectContaining({ saturated: true }) }),
  ]);
  const [load] = summary.loads;
  expect(load.attempt).toBe(2);
  // The machine's record: a bucket per 100 ms of the attempt, the probe's lateness measured in each.
  expect(load.noise.buckets.length).toBeGreaterThanOrEqual(10);
  expect(
    load.noise.buckets.every((b: { probeMaxMs: number | null }) => b.probeMaxMs === null || b.probeMaxMs >= 0),
  ).toBe(true);
  expect(load.noise.summary.saturated).toBe(true);
  // The engine's own lateness, per bucket of the load.
  expect(load.buckets.every((b: { sendLateMs?: number }) => typeof b.sendLateMs === 'number')).toBe(true);

  const junit = readFileSync(path.join(latest, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/<testsuites [^>]*failures="0" errors="1">/);
  expect(junit).toMatch(/<error message="INCONCLUSIVE {2}p99 latency/);
  expect(junit).not.toContain('<failure');
  const markdown = readFileSync(path.join(latest, 'summary.md'), 'utf8');
  expect(markdown).toContain('## dbproof: INCONCLUSIVE — 0 of 1 budgets hold');
  expect(markdown).toContain('| ⚠️ | load by-id |');
  const html = readFileSync(path.join(latest, 'report.html'), 'utf8');
  expect(html).toContain('<span class="verdict-inconclusive">INCONCLUSIVE</span>');
  expect(html).not.toMatch(/class="verdict-pass">PASS<\/td>/);
});

test('on a machine called quiet the same broken budget is a FAIL at once: exit 1, no second attempt', async () => {
  const { file } = config('quiet', { scenarios: impossibleLatency, noise: { saturation: NEVER_SATURATED } });
  const cli = await runCli(['gate', '--config', file]);
  expect(cli.code, cli.stderr).toBe(1);
  expect(cli.stderr).not.toContain('saturated');
  expect(cli.stdout).toMatch(/^FAIL: 0 of 1 budgets hold/m);
});

test('a budget that does not depend on time is never excused: an N+1 is a FAIL on a saturated machine, not retried', async () => {
  const { file } = config('content', {
    suites: { 'n-plus-one': { endpoints: ['GET /inspections?limit={K}'] } },
    noise: { retries: 2, saturation: ALWAYS_SATURATED },
  });
  const retries: string[] = [];
  const { result } = await runPlan(await planRun({ config: file }), {
    onRetry: (_source, why) => void retries.push(why),
  });
  expect(retries).toEqual([]);
  expect(result).toMatchObject({ pass: false, inconclusive: false });
  expect(result.verdicts).toEqual([
    expect.objectContaining({
      source: 'suite n-plus-one',
      pass: false,
      budget: expect.objectContaining({ metric: 'statementsPerItem' }),
    }),
  ]);
  expect(result.verdicts[0]!.inconclusive).toBeUndefined();
  expect(result.suites[0]!.noise?.summary.saturated).toBe(true);
  expect(result.earlierAttempts).toEqual([]);
});

test('retries and thresholds out of range are one line each, exit 2, before anything starts', async () => {
  for (const [noise, fix] of [
    [{ retries: 9 }, /noise\.retries/],
    [{ retries: -1 }, /noise\.retries/],
    [{ saturation: { cpuPressure: 2 } }, /noise\.saturation\.cpuPressure/],
    [{ saturation: { probeP99s: 5 } }, /noise\.saturation/],
    [{ monitor: 'yes' }, /noise\.monitor/],
  ] as const) {
    const { file, results } = config('bad', { scenarios: impossibleLatency, noise });
    const cli = await runCli(['gate', '--config', file]);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(fix);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(() => readFileSync(path.join(results, 'latest', 'summary.json'))).toThrow();
  }
});

test("a suite run again keeps a file per attempt, each with the machine's record and its attempt number", async () => {
  const { file } = config('suite-attempts', {
    suites: {
      'replica-lost': { durationMs: 2000, faultAtMs: 500, faultForMs: 1000, budgets: { p99Ms: 0 } },
    },
    noise: { retries: 1, saturation: ALWAYS_SATURATED },
  });
  const { run, result } = await runPlan(await planRun({ config: file }));
  expect(result.inconclusive).toBe(true);
  const files = readdirSync(path.join(run.dir, 'suites')).sort();
  expect(files).toEqual(['replica-lost--reference-app-2.json', 'replica-lost--reference-app.json']);
  const attempts = files.map((f) => JSON.parse(readFileSync(path.join(run.dir, 'suites', f), 'utf8')));
  expect(attempts.map((a) => a.attempt).sort()).toEqual([1, 2]);
  for (const attempt of attempts) {
    expect(attempt.noise.summary.saturated).toBe(true);
    expect(attempt.noise.buckets.length).toBeGreaterThan(5);
  }
});
