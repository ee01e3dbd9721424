// `dbproof merge`: the shards of one gate run (`gate --shard i/n`) joined into one run, judged
// as the gate judges one; shards that cannot make one whole run are refused before anything
// is written (harness/results/merge.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { atMost, inconclusive, judge } from '../../harness/budgets/index.ts';
import { mergeShards, readShardResults, writeMergedRun } from '../../harness/results/merge.ts';
import { runResultSchema, type RunResult } from '../../harness/results/run-result.ts';
import { createRunDirectory, writeSuiteResult } from '../../harness/results/write.ts';
import { junitXml, summaryMarkdown, writeRunResult } from '../../harness/results/writers/index.ts';
import { finishedRun, loadResult, suiteResult } from '../support/runs.ts';
import { tempDir } from '../support/temp.ts';

const held = (claim: string) => judge(claim, atMost('errors', 0, 'count'), 0);
const broken = (claim: string) => judge(claim, atMost('errors', 0, 'count'), 3);
const tooBusy = (claim: string) => inconclusive(broken(claim), 'probe p99 40 ms');

/** Shard `index` of `total` of config `configHash`, with these suites and loads. */
const shard = (
  index: number,
  total: number,
  work: { suites?: RunResult['suites']; loads?: RunResult['loads'] } = {},
  extra: Parameters<typeof finishedRun>[2] = {},
) =>
  finishedRun(work.suites ?? [], work.loads ?? [], {
    runId: `run-${index}`,
    shard: { index, total },
    configHash: 'c0ffee',
    ...extra,
  });

const named = (suite: string, pass: boolean) => ({ ...suiteResult(pass), suite });
const given = (...runs: RunResult[]) => runs.map((run, i) => ({ dir: `shard-${i + 1}`, run }));

describe('merging shards', () => {
  test('every suite, load and verdict of every shard, in shard order, as one passing run', () => {
    const merged = mergeShards(
      given(
        shard(2, 3, { loads: [loadResult('by-id', [held('p99 stays low')])] }),
        shard(1, 3, { suites: [named('n-plus-one', true)] }),
        shard(3, 3, { suites: [named('replica-lost', true)] }, { startedAt: '2026-01-01', finishedAt: '2026-01-03' }),
      ),
      'merged-1',
    );
    expect(merged.verdicts.map((v) => v.source)).toEqual(['suite n-plus-one', 'suite replica-lost', 'load by-id']);
    expect(merged).toMatchObject({ runId: 'merged-1', pass: true, inconclusive: false, incomplete: false });
    expect(merged).toMatchObject({ configHash: 'c0ffee', startedAt: '2026-01-01', finishedAt: 'now' });
    expect(merged.shard).toBeUndefined();
    expect(merged.mergedFrom).toEqual([
      { runId: 'run-1', index: 1, total: 3 },
      { runId: 'run-2', index: 2, total: 3 },
      { runId: 'run-3', index: 3, total: 3 },
    ]);
  });

  test('a budget broken in one shard fails the merged run', () => {
    const merged = mergeShards(
      given(
        shard(1, 2, { suites: [named('n-plus-one', true)] }),
        shard(2, 2, { loads: [loadResult('x', [broken('b')])] }),
      ),
      'm',
    );
    expect(merged).toMatchObject({ pass: false, inconclusive: false });
  });

  test("INCONCLUSIVE by the gate's rule: only when every broken budget, in any shard, is one the machine could not measure", () => {
    const busy = shard(2, 2, { loads: [loadResult('x', [tooBusy('p99')])] });
    expect(mergeShards(given(shard(1, 2, { loads: [loadResult('y', [held('a')])] }), busy), 'm')).toMatchObject({
      pass: false,
      inconclusive: true,
    });
    expect(mergeShards(given(shard(1, 2, { loads: [loadResult('y', [broken('a')])] }), busy), 'm')).toMatchObject({
      pass: false,
      inconclusive: false,
    });
  });

  test('a shard the share gave nothing passes on its own and adds nothing to the merge', () => {
    const empty = shard(3, 3);
    expect(empty.pass).toBe(true);
    expect(junitXml(empty)).not.toMatch(/<error/);
    expect(summaryMarkdown(empty)).toContain('Shard 3 of 3: the share gave it nothing to run');
    const merged = mergeShards(
      given(
        shard(1, 3, { suites: [named('n-plus-one', true)] }),
        shard(2, 3, { suites: [named('pool', true)] }),
        empty,
      ),
      'm',
    );
    expect(merged).toMatchObject({ pass: true });
    expect(merged.verdicts).toHaveLength(2);
  });

  test('a whole run with no verdict still proves nothing', () => {
    expect(finishedRun([], []).pass).toBe(false);
  });

  test.each([
    [
      'a shard missing',
      [shard(1, 3), shard(3, 3)],
      /^shard 2\/3 is missing \(given: shard 1\/3, shard 3\/3\); give the results folder of every shard/,
    ],
    ['two missing', [shard(2, 4), shard(3, 4)], /^shard 1\/4, shard 4\/4 are missing/],
    [
      'a shard given twice',
      [shard(1, 2), shard(1, 2), shard(2, 2)],
      /^shard 1\/2 is given twice \(shard-1 and shard-2\); give each shard's results once$/,
    ],
    [
      'an interrupted shard',
      [shard(1, 2), shard(2, 2, {}, { incomplete: true })],
      /^shard-2 is shard 2\/2 of an interrupted run \("incomplete": true in its summary\.json\); run that shard again$/,
    ],
    [
      'another config',
      [shard(1, 2), shard(2, 2, {}, { configHash: 'beef' })],
      /^shard-2 ran another config than shard-1 \(its suites or scenarios differ: config beef, not c0ffee\)/,
    ],
    [
      'another total',
      [shard(1, 2), shard(2, 3)],
      /^shard-2 is shard 2\/3 but shard-1 is shard 1\/2: the shards of one run have the same total/,
    ],
    [
      'a whole run',
      [shard(1, 2), finishedRun([], [])],
      /^shard-2 is not a shard's results \(its summary\.json names no shard\)/,
    ],
    ['nothing', [], /^give the results folder of every shard/],
  ] as [string, RunResult[], RegExp][])('refused: %s', (_, runs, message) => {
    expect(() => mergeShards(given(...runs), 'm')).toThrow(message);
  });
});

describe('the results schema', () => {
  test('reads a summary written before sharding (no shard, configHash or mergedFrom)', () => {
    const { shard: _, configHash: __, mergedFrom: ___, ...older } = shard(1, 2);
    expect(runResultSchema.parse(older)).not.toHaveProperty('shard');
  });

  test('keeps the shard, the config hash and the merged runs', () => {
    const merged = mergeShards(given(shard(1, 1)), 'm');
    expect(runResultSchema.parse(shard(1, 2))).toMatchObject({ shard: { index: 1, total: 2 }, configHash: 'c0ffee' });
    expect(runResultSchema.parse(merged).mergedFrom).toEqual([{ runId: 'run-1', index: 1, total: 1 }]);
    expect(summaryMarkdown(merged)).toContain('Merged from 1 shards: 1/1 (run run-1).');
  });
});

describe("the shards' folders", () => {
  /** Writes `run` as a gate does, with its suites' files, into a run folder of its own under a new results folder. */
  async function written(run: RunResult): Promise<string> {
    const root = tempDir('shard');
    const folder = await createRunDirectory(root);
    for (const suite of run.suites) await writeSuiteResult(folder, suite);
    await writeRunResult(folder.dir, { ...run, runId: folder.runId });
    return folder.dir;
  }

  test("are read from a run's folder or a results folder's latest, and written as one run with every suite file", async () => {
    const first = await written(shard(1, 2, { suites: [named('n-plus-one', true)] }));
    const second = await written(shard(2, 2, { suites: [named('pool', false)] }));
    const shards = [await readShardResults(first), await readShardResults(path.dirname(second))];
    expect(shards.map((s) => s.suiteFiles.map((f) => f.name))).toEqual([
      ['n-plus-one--reference-app.json'],
      ['pool--reference-app.json'],
    ]);
    const out = path.join(tempDir('merged'), 'out');
    await writeMergedRun(out, mergeShards(shards, 'm'), shards);
    expect(readdirSync(out).sort()).toEqual(
      ['report.html', 'suites', 'summary.json', 'junit.xml', 'summary.md'].sort(),
    );
    expect(readdirSync(path.join(out, 'suites')).sort()).toEqual([
      'n-plus-one--reference-app.json',
      'pool--reference-app.json',
    ]);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as RunResult;
    expect(summary).toMatchObject({ pass: false, configHash: 'c0ffee' });
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/id="share">Merged from 2 shards/);
  });

  test('a folder without a summary.json is named, with what to give instead', async () => {
    const empty = tempDir('not-a-shard');
    await expect(readShardResults(empty)).rejects.toThrow(
      new RegExp(`^${empty} holds no summary\\.json: give each shard's results folder`),
    );
    expect(existsSync(path.join(empty, 'latest'))).toBe(false);
  });
});
