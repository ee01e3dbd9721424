// `dbproof gate`: topology → data → app → suites → load scenarios → results. Exit 0 when
// every budget holds, 1 when one is broken, 2 on a configuration error. summary.json is
// valid at every moment: `incomplete` until the run has ended, so an interrupted run is
// marked as such, never half-written.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readRunResult } from '../../harness/results/writers/index.ts';
import { BIN, runCli } from '../support/cli.ts';
import { byIdScenario, quickSuite, writeReferenceConfig } from '../support/reference-config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('gate');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
const resultsDir = path.join(dir, 'results');

/** A config for the reference app, its results in the shared results folder (see test/support/reference-config.ts). */
const config = (name: string, body: object, env?: Record<string, string>): string =>
  writeReferenceConfig(dir, name, body, { env, results: resultsDir }).file;
const scenario = byIdScenario;

describe('configuration errors: exit 2, one line, nothing started or written', () => {
  const cases: [string, object, RegExp][] = [
    ['nothing to gate on', {}, /the config has no suites and no scenarios: nothing to gate on/],
    [
      'a scenario budget without a unit',
      { scenarios: scenario('p99=200') },
      /invalid scenarios\.by-id\.budgets: .*a latency needs a unit/,
    ],
    [
      'a k6 scenario with both models',
      { scenarios: { x: { request: 'GET /health', rate: 10, connections: 2, engine: 'k6' } } },
      /invalid scenarios\.x\.rate: with engine 'k6', give rate \(open model\) or connections/,
    ],
    [
      'a scenario with an unknown engine',
      { scenarios: { x: { request: 'GET /health', rate: 10, engine: 'wrk' } } },
      /invalid scenarios\.x\.engine: /,
    ],
    [
      'a mix with an endpoint twice',
      { scenarios: { x: { mix: [{ request: 'GET /a' }, { request: 'GET /a' }], rate: 10 } } },
      /invalid scenarios\.x\.mix: GET \/a is in the mix twice/,
    ],
    [
      'a k6 scenario where k6 is not installed',
      { scenarios: { x: { request: 'GET /health', rate: 10, engine: 'k6' } } },
      /k6 is not on PATH: install it/,
    ],
    [
      'a scenario request with a body method',
      { scenarios: { x: { request: 'POST /notes' } } },
      /invalid scenarios\.x\.request: a request such as 'GET \/inspections\/\{id\}'/,
    ],
  ];
  test.each(cases)('%s', async (name, body, message) => {
    const result = await runCli(['gate', '--config', config(name.replace(/\W+/g, '-'), body)]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(existsSync(resultsDir) ? readdirSync(resultsDir) : []).toEqual([]);
  });
});

test('a passing gate: exit 0, and summary.json, junit.xml and summary.md say the same', async () => {
  const result = await runCli([
    'gate',
    '--config',
    config('pass', { suites: quickSuite, scenarios: scenario('p99=1s,errors=0.5%') }),
  ]);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  expect(result.stdout).toMatch(
    /^PASS: 4 of 4 budgets hold; results in .* \(summary\.json, junit\.xml, summary\.md, report\.html\)$/m,
  );
  const runDir = path.join(resultsDir, 'latest');
  const summary = await readRunResult(path.join(runDir, 'summary.json'));
  expect(summary).toMatchObject({ schemaVersion: 1, incomplete: false, pass: true });
  expect(summary.verdicts.map((v) => [v.source, v.budget.metric])).toEqual([
    ['suite replica-lost', 'errorsDuringFault'],
    ['suite replica-lost', 'timeToRecoverMs'],
    ['load by-id', 'p99Ms'],
    ['load by-id', 'errorRate'],
  ]);
  expect(summary.loads[0]).toMatchObject({ name: 'by-id', model: 'open', rate: 50, requests: 100, errors: 0 });
  const junit = readFileSync(path.join(runDir, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/<testsuites name="dbproof [^"]+" tests="4" failures="0" errors="0">/);
  expect(junit.match(/<testcase /g)).toHaveLength(4);
  expect(readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toMatch(/^## dbproof: PASS — 4 of 4 budgets hold/);
});

test('a broken load budget fails the gate: exit 1, a JUnit failure, a FAIL summary', async () => {
  const result = await runCli(['gate', '--config', config('fail', { scenarios: scenario('p99=0.001ms') })]);
  expect(result.code, result.stderr + result.stdout).toBe(1);
  const runDir = path.join(resultsDir, 'latest');
  expect((await readRunResult(path.join(runDir, 'summary.json'))).pass).toBe(false);
  expect(readFileSync(path.join(runDir, 'junit.xml'), 'utf8')).toMatch(
    /<failure message="FAIL {2}p99 latency stays within 0\.001 ms — p99Ms \[GET \/inspections\/\{id\}\] [\d.]+ ms &lt;= 0 ms/,
  );
  expect(readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toMatch(/^## dbproof: FAIL — 0 of 1 budgets hold/);
});

test('an interrupted gate leaves a valid summary marked incomplete', async () => {
  const file = config('interrupted', {
    suites: quickSuite,
    scenarios: { long: { request: 'GET /health', rate: 20, durationMs: 60_000 } },
  });
  const child = spawn(process.execPath, [BIN, 'gate', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (/load long:/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gate exited (${code}) early: ${stderr}`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const summary = await readRunResult(path.join(resultsDir, 'latest', 'summary.json'));
  expect(summary).toMatchObject({ incomplete: true, pass: false, finishedAt: null });
  expect(summary.suites.map((s) => s.suite)).toEqual(['replica-lost']);
  expect(readFileSync(path.join(resultsDir, 'latest', 'summary.md'), 'utf8')).toMatch(/^## dbproof: INCOMPLETE run/);
  expect(readFileSync(path.join(resultsDir, 'latest', 'report.html'), 'utf8')).toMatch(
    /<h1 id="status">dbproof <span class="incomplete">INCOMPLETE<\/span>/,
  );
  // CI that reads only junit.xml sees an error, not the suite's passing budgets alone.
  expect(readFileSync(path.join(resultsDir, 'latest', 'junit.xml'), 'utf8')).toMatch(
    /tests="3" failures="\d" errors="1">[\s\S]*<error message="the run was interrupted before it finished/,
  );
});

describe('regression against a baseline', () => {
  const baselineDir = tempDir('gate-baseline');
  const scenarios = {
    'by-id': {
      request: 'GET /inspections/{id}',
      ids: { from: 1, to: 80 },
      rate: 100,
      durationMs: 3000,
      warmupMs: 500,
      budgets: 'errors=0',
    },
  };
  // This machine is shared: a sub-millisecond endpoint's median moves by up to ~10 ms with its neighbours'
  // load, so the floor is 25 ms here and the deliberate slow-down 100 ms: far above the noise either way.
  const gateWith = (name: string, env: Record<string, string> = {}) =>
    config(name, { scenarios, results: { dir: baselineDir, regressionMinMs: 25 } }, env);

  test('a failed run cannot become the baseline', async () => {
    const failing = config('baseline-failing', {
      scenarios: { x: { request: 'GET /health', rate: 20, durationMs: 1000, budgets: 'p99=0.001ms' } },
      results: { dir: baselineDir },
    });
    expect((await runCli(['gate', '--config', failing])).code).toBe(1);
    const result = await runCli(['baseline', '--config', failing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broke 1 budget\(s\): a baseline comes from a passing run/);
  });

  test('the same app twice holds against its baseline; the app made 100 ms slower is a regression', async () => {
    expect((await runCli(['gate', '--config', gateWith('baseline-first')])).code).toBe(0);
    const kept = await runCli(['baseline', '--config', gateWith('baseline-first')]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(existsSync(path.join(baselineDir, 'baseline.json'))).toBe(true);

    const again = await runCli(['gate', '--config', gateWith('baseline-again'), '--json']);
    expect(again.code, again.stdout).toBe(0);
    const same = (
      JSON.parse(again.stdout) as { verdicts: { budget: { metric: string }; pass: boolean; evidence?: string }[] }
    ).verdicts.find((v) => v.budget.metric === 'p50SlowdownLowerBound')!;
    expect(same.pass, same.evidence).toBe(true);
    expect(same.evidence).toMatch(/bootstrap \(2000 resamples, seeded\)/);

    const slower = await runCli(['gate', '--config', gateWith('baseline-slower', { EXAMPLE_EXTRA_LATENCY_MS: '100' })]);
    expect(slower.code, slower.stdout).toBe(1);
    expect(slower.stdout).toMatch(
      /FAIL {2}by-id is not slower than the baseline by more than 10 % \(and 25 ms\) — p50SlowdownLowerBound/,
    );
  });
});

describe("top statements against the baseline's (results.topStatements)", () => {
  const baselineDir = tempDir('gate-top-statements');
  const scenarios = {
    media: { request: 'GET /media/recent?limit=20', rate: 40, durationMs: 1500, warmupMs: 300, budgets: 'errors=0' },
  };
  const gateWith = (name: string, env: Record<string, string> = {}) =>
    config(name, { scenarios, results: { dir: baselineDir, topStatements: { gate: true } } }, env);
  const mediaPage = /FROM media ORDER BY uploaded_at DESC LIMIT/;

  test("the same app twice keeps them; the index never made changes the statement's plan, and the gate fails naming it", async () => {
    const first = await runCli(['gate', '--config', gateWith('top-first')]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const kept = await runCli(['baseline', '--config', gateWith('top-first')]);
    expect(kept.code, kept.stderr).toBe(0);
    const baseline = await readRunResult(path.join(baselineDir, 'baseline.json'));
    const page = baseline.loads[0]!.statements!.find((s) => mediaPage.test(s.query))!;
    // Its plan as Postgres makes it for any value: the app's index read backwards.
    expect(page.plan).toEqual(['Limit', 'Index Scan on media']);
    expect(page.query).toMatch(/LIMIT \$1/);

    const again = await runCli(['gate', '--config', gateWith('top-again'), '--json']);
    expect(again.code, again.stdout).toBe(0);
    const same = (
      JSON.parse(again.stdout) as { verdicts: { budget: { metric: string }; pass: boolean; evidence?: string }[] }
    ).verdicts.find((v) => v.budget.metric === 'topStatementChanges')!;
    expect(same.pass, same.evidence).toBe(true);

    const noIndex = await runCli(['gate', '--config', gateWith('top-no-index', { EXAMPLE_PLAN_INDEX: 'off' })]);
    expect(noIndex.code, noIndex.stdout).toBe(1);
    expect(noIndex.stdout).toMatch(/FAIL .*top 10 statements are those of the baseline.* — topStatementChanges/);
    expect(noIndex.stdout).toMatch(/plan Limit > Index Scan on media → Limit > Sort > Seq Scan on media/);
    const summary = readFileSync(path.join(baselineDir, 'latest', 'summary.md'), 'utf8');
    expect(summary).toMatch(/### Top statements/);
    expect(summary).toMatch(/Changed since the baseline/);
  });
});
