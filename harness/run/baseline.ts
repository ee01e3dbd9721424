import { existsSync } from 'node:fs';
import path from 'node:path';
import { regressionVerdict } from '../../load/regression.ts';
import { baselineFileOf, resultsDirOf } from '../config/paths.ts';
import { readConfig, type ResolvedConfig } from '../config/index.ts';
import { UsageError } from '../errors.ts';
import type { LoadResult, RunResult } from '../results/run-result.ts';
import { writeFileAtomic } from '../results/write.ts';
import { readRunResult } from '../results/writers/index.ts';

/**
 * The baseline a gate compares its load scenarios with (results/baseline.json, kept by
 * `dbproof baseline` from a passing run): read before anything starts, each scenario's
 * regression verdict added to its load as it finishes.
 */
export interface Baseline {
  /** Where it is (or would be): results.baseline, else <results.dir>/baseline.json. */
  file: string;
  /** The kept run; undefined when there is none yet. */
  run: RunResult | undefined;
  /** A slow-down below these is never a regression (results.regressionTolerance, results.regressionMinMs). */
  tolerance: number;
  minDeltaMs: number;
}

/** A baseline that cannot be read is a configuration error, found before anything starts. */
export async function readBaseline(config: ResolvedConfig, configDir: string): Promise<Baseline> {
  const file = baselineFileOf(config, configDir);
  const run = existsSync(file)
    ? await readRunResult(file, 'restore it from version control, or delete it and run `dbproof baseline` again')
    : undefined;
  return { file, run, tolerance: config.results.regressionTolerance, minDeltaMs: config.results.regressionMinMs };
}

/**
 * What the run will not compare, in one line: a gate that silently skips its regression
 * checks looks like one that passed them.
 */
export function baselineNotices(baseline: Baseline, scenarios: string[]): string[] {
  const where = path.relative(process.cwd(), baseline.file) || baseline.file;
  const unmatched = scenarios.filter((name) => !baseline.run?.loads.some((l) => l.name === name));
  if (!baseline.run && scenarios.length > 0)
    return [
      `no baseline at ${where}: the load scenarios are not checked for regressions (\`dbproof baseline\` keeps a passing run as one)`,
    ];
  if (unmatched.length > 0)
    return [
      `the baseline ${where} has no load ${unmatched.join(', ')}: not checked for regressions (\`dbproof baseline\` after a passing run that has it)`,
    ];
  return [];
}

/** Adds the load's regression verdict against the baseline's load of the same name, when there is one. */
export function compareWithBaseline(result: LoadResult, baseline: Baseline): void {
  const before = baseline.run?.loads.find((l) => l.name === result.name);
  if (before)
    result.verdicts.push(
      regressionVerdict(result, before, { tolerance: baseline.tolerance, minDeltaMs: baseline.minDeltaMs }),
    );
}

export interface KeepBaselineOptions {
  /** The config file (default ./dbproof.config.ts or .mts; `DEMO_CONFIG` for the reference app's demo). */
  config?: string;
  /** The run to keep: its folder or its summary.json (default <results.dir>/latest). */
  from?: string;
}

/**
 * Keeps a passing, finished gate run as the baseline (`dbproof baseline`): its summary.json
 * copied to results.baseline. A failed or incomplete run is refused.
 */
export async function keepBaseline(options: KeepBaselineOptions = {}): Promise<{ run: RunResult; file: string }> {
  const { config, file: configFile } = await readConfig(options.config);
  const configDir = path.dirname(configFile);
  // `from` is the user's, relative to where they are; the default is the config's results folder.
  const from = path.resolve(options.from ?? path.join(resultsDirOf(config, configDir), 'latest'));
  const summary = from.endsWith('.json') ? from : path.join(from, 'summary.json');
  if (!existsSync(summary))
    throw new UsageError(`no gate run at ${summary}: run \`dbproof gate\` first, or give --from <results/run-id>`);
  const run = await readRunResult(summary);
  if (run.incomplete)
    throw new UsageError(`run ${run.runId} is incomplete: a baseline comes from a finished, passing run`);
  if (run.shard)
    throw new UsageError(
      `run ${run.runId} is shard ${run.shard.index}/${run.shard.total}, a share of the scenarios: a baseline comes from a whole run; keep the shards' merged run (\`dbproof merge\`, then --from its folder)`,
    );
  if (!run.pass)
    throw new UsageError(
      `run ${run.runId} broke ${run.verdicts.filter((v) => !v.pass).length} budget(s): a baseline comes from a passing run`,
    );
  const file = baselineFileOf(config, configDir);
  await writeFileAtomic(file, `${JSON.stringify(run, null, 2)}\n`);
  return { run, file };
}
