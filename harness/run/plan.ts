import path from 'node:path';
import { checkCapacity } from '../../fixtures/dataset/capacity.ts';
import type { Dataset } from '../../fixtures/dataset/types.ts';
import { DATASET_DEFAULTS } from '../../fixtures/defaults.ts';
import { datasetFromFile } from '../../fixtures/profiles/from-file.ts';
import { profile } from '../../fixtures/profiles/index.ts';
import { K6_MISSING, k6OnPath } from '../../load/k6/run.ts';
import { SUITE_NAMES } from '../../suites/index.ts';
import { checkInstances } from '../app/index.ts';
import { readConfig, type ResolvedConfig } from '../config/index.ts';
import { resultsDirOf } from '../config/paths.ts';
import { UsageError } from '../errors.ts';
import { checkResultsFolder } from '../results/folder.ts';
import { resolveTopologySpec } from '../topology/spec.ts';
import type { ProviderName, TopologySpec } from '../topology/types.ts';
import { baselineNotices, readBaseline, type Baseline } from './baseline.ts';
import { checkShard, type Shard, shareOf, workHash } from './shard.ts';
import { planSuites, suiteCatalogue, type PlannedSuite } from './suites.ts';

export interface RunOptions {
  /**
   * The config file (default ./dbproof.config.ts or .mts; none there is a UsageError naming
   * `dbproof init`). `DEMO_CONFIG` (from 'dbproof') is the reference app's demo, as `--demo`.
   */
  config?: string;
  /** Overrides the config's topology.provider. */
  provider?: ProviderName;
  /**
   * The suites to run, by name (default: the config's `suites:`; a run without load
   * scenarios whose config names none runs every suite, as `dbproof test` alone does).
   */
  suites?: string[];
  /**
   * Run the config's load scenarios after the suites, each compared with the baseline
   * (default true, as `dbproof gate` does; `dbproof test` runs suites only).
   */
  scenarios?: boolean;
  /**
   * Run only this shard's share of the suites and scenarios (`gate --shard 2/3`, see
   * harness/run/shard.ts); `dbproof merge` joins the shards' results into one run.
   */
  shard?: Shard;
  /**
   * Options laid over the config's for the named suites, field by field at the top level
   * (a command's flags, e.g. `migrate-check --migrations DIR`); validated as the config's are.
   */
  suiteOptions?: Record<string, Record<string, unknown>>;
}

/**
 * A run, validated before anything starts: the config, the topology it will start, the
 * data set, each suite with its options, the load scenarios and the baseline they are
 * compared with. A mistake anywhere costs no topology.
 */
export interface RunPlan {
  config: ResolvedConfig;
  /** The config file's folder: the app's working directory and data set files are relative to it. */
  configDir: string;
  /** Where the run's folder goes (results.dir). */
  resultsDir: string;
  spec: TopologySpec;
  provider: ProviderName;
  dataset: Dataset | undefined;
  suites: PlannedSuite[];
  /** The load scenarios to run, by name in the config. */
  scenarios: string[];
  /** Only when the plan runs load scenarios. */
  baseline: Baseline | undefined;
  /**
   * What the run will not do, said before it starts even when progress is silenced
   * (a scenario with no baseline to compare with, a shard with nothing to run).
   */
  notices: string[];
  /** The shard this run is, when it runs one (its suites and scenarios are then the shard's share). */
  shard: Shard | undefined;
  /** The identity of the config's whole work, before sharding (workHash): shards of one config share it. */
  configHash: string;
}

/** The config's data set: a built-in profile or a module of the team's (dataset.file). */
async function datasetOf(config: ResolvedConfig, configDir: string): Promise<Dataset | undefined> {
  if (config.dataset === false) return undefined;
  if (!config.dataset.file) return profile(config.dataset.profile ?? DATASET_DEFAULTS.profile);
  return datasetFromFile(path.resolve(configDir, config.dataset.file), 'dataset.file');
}

/** Which suites run: those named, else the config's, else (a suites-only run) every one. */
function suiteNamesOf(options: RunOptions, config: ResolvedConfig): string[] {
  if (options.suites) return options.suites;
  const configured = Object.keys(config.suites);
  return configured.length === 0 && options.scenarios === false ? [...SUITE_NAMES] : configured;
}

/** Validates everything a run needs (see RunPlan) and starts nothing. */
export async function planRun(options: RunOptions = {}): Promise<RunPlan> {
  const shard = options.shard && checkShard(options.shard);
  const { config, file } = await readConfig(options.config);
  const configDir = path.dirname(file);
  const catalogue = await suiteCatalogue(config, file);
  const suites = suiteNamesOf(options, config).map((name) => catalogue.get(name));
  const scenarios = options.scenarios === false ? [] : Object.keys(config.scenarios);
  if (suites.length === 0 && scenarios.length === 0)
    throw new UsageError(
      'the config has no suites and no scenarios: nothing to gate on (add suites: { … } or scenarios: { … })',
    );
  const baseline = options.scenarios === false ? undefined : await readBaseline(config, configDir);
  const spec: TopologySpec = {
    ...(config.topology as TopologySpec),
    ...(options.provider ? { provider: options.provider } : {}),
  };
  const topology = resolveTopologySpec(spec);
  const planned = await planSuites(
    suites,
    catalogue,
    topology,
    { configDir, scenarios: Object.keys(config.scenarios), dataset: Boolean(config.dataset) },
    options.suiteOptions,
  );
  // Every suite is planned (a bad option fails every shard alike); the shard then takes its share.
  const configHash = workHash(
    planned.map((p) => ({ name: p.suite.name, options: p.options })),
    Object.fromEntries(scenarios.map((name) => [name, config.scenarios[name]])),
  );
  const share = shard ? shareOf(planned, scenarios, shard) : { suites: planned, scenarios, notices: [] };
  // A k6 scenario where k6 is missing is found before anything starts.
  if (scenarios.some((name) => config.scenarios[name]!.engine === 'k6') && !k6OnPath())
    throw new UsageError(K6_MISSING);
  // Instances the machine cannot run at once are refused before anything starts.
  checkInstances(config.app.instances);
  const dataset = await datasetOf(config, configDir);
  // A data set that cannot fit is refused before a topology starts (a profile's was checked with the config).
  if (dataset && config.dataset) checkCapacity(dataset, config.dataset.scale);
  // A folder the run could not write is refused now, before anything starts.
  const resultsDir = resultsDirOf(config, configDir);
  await checkResultsFolder(resultsDir);
  const notices = [...share.notices, ...(baseline ? baselineNotices(baseline, share.scenarios) : [])];
  return {
    config,
    configDir,
    resultsDir,
    spec,
    provider: topology.provider,
    dataset,
    suites: share.suites,
    scenarios: share.scenarios,
    baseline,
    notices,
    shard,
    configHash,
  };
}
