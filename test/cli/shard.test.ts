// Sharding for CI matrices: `dbproof gate --shard I/N` runs a deterministic share of the
// config's suites and scenarios, `dbproof merge` joins the shards' results into one run with
// the unsharded run's verdicts; shards that cannot make one run, and bad --shard values, are
// one line, exit 2, nothing started or written.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { atMost, inconclusive, judge } from '../../harness/budgets/index.ts';
import type { RunResult } from '../../harness/results/run-result.ts';
import { writeRunResult } from '../../harness/results/writers/index.ts';
import { runCli } from '../support/cli.ts';
import { byIdScenario, writeReferenceConfig } from '../support/reference-config.ts';
import { finishedRun, loadResult } from '../support/runs.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('shard');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

/** Three quick items on the smallest topology: the N+1 suite on one endpoint and two one-second loads. */
const { file: config, results } = writeReferenceConfig(dir, 'three', {
  topology: { replicas: 0, redis: false },
  suites: { 'n-plus-one': { endpoints: ['GET /inspections-joined?limit={K}'] } },
  scenarios: {
    ...byIdScenario('p99=1s,errors=0'),
    health: { request: 'GET /health', rate: 50, durationMs: 1000, budgets: 'errors=0' },
  },
});

/** Nothing was started: no run folder in the config's results folder. */
const runFolders = () => (existsSync(results) ? readdirSync(results).filter((name) => name !== 'baseline.json') : []);

describe('gate --shard: a bad value is one line naming the fix, exit 2, nothing started', () => {
  test.each([
    ['4/3', '--shard 4/3: there are only 3 shard(s), give 1/3 to 3/3'],
    ['0/2', '--shard 0/2: shards count from 1, give 1/2 to 2/2'],
    ['x', "--shard must be INDEX/TOTAL, e.g. --shard 2/3 for the second of three shards (got 'x')"],
    ['1/0', '--shard 1/0: there must be at least 1 shard, e.g. --shard 2/3 for the second of three shards'],
  ])('--shard %s', async (shard, message) => {
    const result = await runCli(['gate', '--config', config, '--shard', shard]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`dbproof: ${message}\n`);
    expect(result.stdout).toBe('');
    expect(runFolders()).toEqual([]);
  });
});

test('a shard the share gives nothing passes at once with a note, starting nothing', async () => {
  const result = await runCli(['gate', '--config', config, '--shard', '4/4']);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe(
    'dbproof: shard 4/4 has nothing to run: the 3 suite(s) and scenario(s) of the config went to shards 1–3; it passes, and `dbproof merge` counts it\n',
  );
  expect(result.stdout).toMatch(/^PASS: 0 of 0 budgets hold; results in /);
  const summary = JSON.parse(readFileSync(path.join(results, 'latest', 'summary.json'), 'utf8')) as RunResult;
  expect(summary).toMatchObject({ pass: true, shard: { index: 4, total: 4 }, suites: [], loads: [] });
  expect(readFileSync(path.join(results, 'latest', 'junit.xml'), 'utf8')).not.toContain('<error');
});

test('a shard cannot become the baseline, which must hold every scenario', async () => {
  const shard = await runCli(['gate', '--config', config, '--shard', '4/4', '--json']);
  const { runId } = JSON.parse(shard.stdout) as RunResult;
  const result = await runCli(['baseline', '--config', config, '--from', path.join(results, runId)]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(
    /^dbproof: run \S+ is shard 4\/4, a share of the scenarios: a baseline comes from a whole run; keep the shards' merged run/,
  );
  expect(existsSync(path.join(results, 'baseline.json'))).toBe(false);
});

describe('merge: the shards as one run, or a refusal (one line, exit 2, nothing written)', () => {
  const held = judge('no errors', atMost('errors', 0, 'count'), 0);
  /** Writes shard `index`/`total` with one load of these verdicts into a folder of its own. */
  const shardFolder = (index: number, total: number, verdicts = [held], extra: Partial<RunResult> = {}) => {
    const folder = path.join(tempDir('merge-input'), `shard-${index}`);
    const run = finishedRun([], [loadResult(`load-${index}`, verdicts)], {
      runId: `run-${index}`,
      shard: { index, total },
      configHash: 'c0ffee',
      ...extra,
    });
    return writeRunResult(folder, run).then(() => folder);
  };
  const merge = (args: string[], cwd: string) => runCli(['merge', ...args], { cwd });

  test.each([
    [
      'refused: a shard missing',
      () => Promise.all([shardFolder(1, 3), shardFolder(3, 3)]),
      /^dbproof: shard 2\/3 is missing/,
    ],
    [
      'refused: a shard given twice',
      () => Promise.all([shardFolder(1, 2), shardFolder(1, 2), shardFolder(2, 2)]),
      /^dbproof: shard 1\/2 is given twice/,
    ],
    [
      'refused: an interrupted shard',
      () => Promise.all([shardFolder(1, 2), shardFolder(2, 2, [held], { incomplete: true })]),
      /^dbproof: .*shard-2 is shard 2\/2 of an interrupted run/,
    ],
    [
      'refused: shards of another config',
      () => Promise.all([shardFolder(1, 2), shardFolder(2, 2, [held], { configHash: 'beef' })]),
      /^dbproof: .*shard-2 ran another config than .*shard-1/,
    ],
    ['refused: no folder', async () => [], /^dbproof: give each shard's results folder/],
  ])('%s', async (_, folders, message) => {
    const cwd = tempDir('merge-cwd');
    const out = path.join(cwd, 'out');
    const result = await merge([...(await folders()), '--out', out], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });

  test('every budget held in every shard: exit 0, one run in a new folder under ./results, latest at it', async () => {
    const cwd = tempDir('merge-cwd');
    const result = await merge([await shardFolder(2, 2), await shardFolder(1, 2)], cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^PASS: 2 of 2 budgets hold in 2 shards; results in results\/[\d-]+T[\d-]+Z-[0-9a-f]{4} \(summary\.json, junit\.xml, summary\.md, report\.html\)$/m,
    );
    const summary = JSON.parse(readFileSync(path.join(cwd, 'results', 'latest', 'summary.json'), 'utf8')) as RunResult;
    expect(summary.loads.map((l) => l.name)).toEqual(['load-1', 'load-2']);
    expect(summary.mergedFrom?.map((s) => s.index)).toEqual([1, 2]);
    expect(readdirSync(path.join(cwd, 'results', 'latest')).sort()).toEqual([
      'junit.xml',
      'report.html',
      'summary.json',
      'summary.md',
    ]);
  });

  test('a budget broken in one shard: exit 1; --json prints the merged summary', async () => {
    const cwd = tempDir('merge-cwd');
    const broken = judge('no errors', atMost('errors', 0, 'count'), 2);
    const result = await merge(
      [await shardFolder(1, 2), await shardFolder(2, 2, [broken]), '--out', 'merged', '--json'],
      cwd,
    );
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ pass: false, inconclusive: false });
    expect(readFileSync(path.join(cwd, 'merged', 'summary.md'), 'utf8')).toMatch(
      /^## dbproof: FAIL — 1 of 2 budgets hold/,
    );
  });

  test("the gate's INCONCLUSIVE rule: every broken budget one the machine could not measure is exit 2 with its line", async () => {
    const cwd = tempDir('merge-cwd');
    const busy = inconclusive(judge('p99 stays low', atMost('p99Ms', 1, 'ms'), 40), 'probe p99 40 ms');
    const result = await merge([await shardFolder(1, 2), await shardFolder(2, 2, [busy]), '--out', 'merged'], cwd);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^INCONCLUSIVE: 1 of 2 budgets hold in 2 shards/m);
    expect(result.stderr).toMatch(/^dbproof: INCONCLUSIVE: the machine was too busy to measure 1 budget\(s\)/);
  });
});

test('three shards merged have the verdicts of the unsharded run (names and pass/fail)', async () => {
  const gate = async (args: string[]) => {
    const result = await runCli(['gate', '--config', config, '--json', ...args]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as RunResult;
  };
  const whole = await gate([]);
  const shards = [];
  for (const shard of ['1/3', '2/3', '3/3']) shards.push(await gate(['--shard', shard]));
  // Each shard ran one item, and every shard names the same config.
  expect(shards.map((s) => s.suites.length + s.loads.length)).toEqual([1, 1, 1]);
  expect(new Set([whole, ...shards].map((s) => s.configHash)).size).toBe(1);
  expect(shards.map((s) => s.shard)).toEqual([1, 2, 3].map((index) => ({ index, total: 3 })));

  const out = path.join(tempDir('merged'), 'run');
  const merged = await runCli(['merge', ...shards.map((s) => path.join(results, s.runId)), '--out', out, '--json']);
  expect(merged.code, merged.stderr).toBe(0);
  const verdicts = (run: RunResult) => run.verdicts.map((v) => `${v.source}: ${v.claim} ${v.pass}`).sort();
  expect(verdicts(JSON.parse(merged.stdout) as RunResult)).toEqual(verdicts(whole));
  expect(readdirSync(path.join(out, 'suites'))).toEqual(['n-plus-one--reference-app.json']);
});
