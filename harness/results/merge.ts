import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { redactDeep } from '../redact.ts';
import { RUN_SCHEMA_VERSION, type RunResult, withVerdicts } from './run-result.ts';
import { suiteResultSchema, type SuiteResult } from './schema.ts';
import { readRunResult, writeRunResult } from './writers/index.ts';
import { readSuiteResult, writeFileAtomic } from './write.ts';

/**
 * `dbproof merge`: the results of a gate run in shards (`gate --shard 1/3` … `3/3`, a CI
 * matrix's jobs) joined into one run, as one unsharded gate would have written it. Shards
 * are refused, before anything is written, when they cannot make one whole run: one
 * missing, given twice, interrupted, or of another config.
 */

/** One shard's results folder, read: its summary.json and its suites' files. */
export interface ShardResults {
  /** The folder as given (messages name it so). */
  dir: string;
  run: RunResult;
  /** `suites/<name>.json`, every attempt's, by file name. */
  suiteFiles: { name: string; result: SuiteResult }[];
}

const exists = (file: string) =>
  lstat(file).then(
    () => true,
    () => false,
  );

/** A shard's run folder: `dir` itself, or the run `dir/latest` points at (a whole results folder, as CI keeps it). */
async function runFolderOf(dir: string): Promise<string> {
  if (await exists(path.join(dir, 'summary.json'))) return dir;
  if (await exists(path.join(dir, 'latest', 'summary.json'))) return path.join(dir, 'latest');
  throw new UsageError(
    `${dir} holds no summary.json: give each shard's results folder (results/<run-id>, or the results folder of its latest run)`,
  );
}

/** Reads a shard's results folder; an unreadable or foreign file is one line naming it. */
export async function readShardResults(dir: string): Promise<ShardResults> {
  const folder = await runFolderOf(dir);
  const run = await readRunResult(path.join(folder, 'summary.json'), 'run that shard again');
  const suitesDir = path.join(folder, 'suites');
  const names = (await exists(suitesDir)) ? (await readdir(suitesDir)).filter((n) => n.endsWith('.json')).sort() : [];
  const suiteFiles = [];
  for (const name of names) suiteFiles.push({ name, result: await readSuiteResult(path.join(suitesDir, name)) });
  return { dir, run, suiteFiles };
}

const label = (run: RunResult) => (run.shard ? `shard ${run.shard.index}/${run.shard.total}` : 'a whole run');

/** The first reason the shards cannot make one run, as one line with the fix; undefined when they can. */
export function shardsProblem(shards: Pick<ShardResults, 'dir' | 'run'>[]): string | undefined {
  if (shards.length === 0)
    return 'give the results folder of every shard, e.g. `dbproof merge shard-1 shard-2 shard-3`';
  for (const { dir, run } of shards) {
    if (!run.shard)
      return `${dir} is not a shard's results (its summary.json names no shard); give the folders \`dbproof gate --shard INDEX/TOTAL\` wrote`;
    if (run.shard.index > run.shard.total)
      return `${dir} names shard ${run.shard.index}/${run.shard.total}, which cannot be (edited by hand?); run that shard again`;
    if (run.incomplete)
      return `${dir} is ${label(run)} of an interrupted run ("incomplete": true in its summary.json); run that shard again`;
  }
  const [first, ...others] = shards as { dir: string; run: RunResult & { shard: { index: number; total: number } } }[];
  for (const other of others) {
    if (other.run.configHash !== first!.run.configHash)
      return `${other.dir} ran another config than ${first!.dir} (its suites or scenarios differ: config ${other.run.configHash ?? 'unknown'}, not ${first!.run.configHash ?? 'unknown'}); merge the shards of one config, run with the same dbproof.config.ts`;
    if (other.run.shard.total !== first!.run.shard.total)
      return `${other.dir} is ${label(other.run)} but ${first!.dir} is ${label(first!.run)}: the shards of one run have the same total; run every shard with --shard INDEX/${first!.run.shard.total}`;
  }
  const total = first!.run.shard.total;
  for (let index = 1; index <= total; index++) {
    const given = shards.filter((s) => s.run.shard!.index === index);
    if (given.length > 1)
      return `shard ${index}/${total} is given twice (${given.map((s) => s.dir).join(' and ')}); give each shard's results once`;
  }
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter(
    (index) => !shards.some((s) => s.run.shard!.index === index),
  );
  if (missing.length)
    return `${missing.map((i) => `shard ${i}/${total}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (given: ${shards
      .map((s) => label(s.run))
      .join(', ')}); give the results folder of every shard (a shard that broke a budget writes one too)`;
  return undefined;
}

/**
 * The shards as one run (`runId` its own): every suite, load, verdict and earlier attempt of
 * each shard, in shard order, judged again as a whole (withVerdicts: PASS when every budget
 * held in every shard; INCONCLUSIVE by the gate's rule). The environment is the first shard's.
 * Refuses shards that cannot make one run (see shardsProblem) with a UsageError.
 */
export function mergeShards(shards: Pick<ShardResults, 'dir' | 'run'>[], runId: string): RunResult {
  const problem = shardsProblem(shards);
  if (problem) throw new UsageError(problem);
  const runs = shards.map((s) => s.run).sort((a, b) => a.shard!.index - b.shard!.index);
  const times = (pick: (run: RunResult) => string | null) =>
    runs
      .map(pick)
      .filter((t): t is string => t !== null)
      .sort();
  return withVerdicts({
    schemaVersion: RUN_SCHEMA_VERSION,
    runId,
    startedAt: times((r) => r.startedAt)[0]!,
    finishedAt: times((r) => r.finishedAt).at(-1) ?? null,
    incomplete: false,
    environment: runs[0]!.environment,
    suites: runs.flatMap((r) => r.suites),
    loads: runs.flatMap((r) => r.loads),
    earlierAttempts: runs.flatMap((r) => r.earlierAttempts),
    configHash: runs[0]!.configHash,
    mergedFrom: runs.map((r) => ({ runId: r.runId, index: r.shard!.index, total: r.shard!.total })),
  });
}

/** Writes the merged run into `dir` (summary.json, junit.xml, summary.md, report.html) and every shard's suites' files, each atomically. */
export async function writeMergedRun(dir: string, merged: RunResult, shards: ShardResults[]): Promise<string[]> {
  const files: string[] = [];
  for (const { name, result } of shards.flatMap((s) => s.suiteFiles)) {
    const file = path.join(dir, 'suites', name);
    await writeFileAtomic(file, `${JSON.stringify(suiteResultSchema.parse(redactDeep(result)), null, 2)}\n`);
    files.push(file);
  }
  // The run's own files last: a summary.json in the folder means the merge finished.
  files.push(...(await writeRunResult(dir, merged)));
  return files;
}
