import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Dataset } from '../../../fixtures/dataset/types.ts';
import { silentProgress } from '../../../fixtures/loader/progress.ts';
import { profile } from '../../../fixtures/profiles/index.ts';
import { checkCapacity } from '../../../fixtures/dataset/capacity.ts';
import { datasetFromFile } from '../../../fixtures/profiles/from-file.ts';
import { dropCreatedDatabase, seedAppDatabase } from '../../../fixtures/seed.ts';
import { K6_MISSING, k6OnPath } from '../../../load/k6/run.ts';
import { progressReporter } from '../../../load/progress.ts';
import { describeRequests, runScenario } from '../../../load/scenario.ts';
import { SUITE_NAMES, SUITES, type SuiteName } from '../../../suites/index.ts';
import { startApp } from '../../app/index.ts';
import { loadConfig, type ResolvedConfig } from '../../config/index.ts';
import { DbproofError, InfrastructureError, UsageError } from '../../errors.ts';
import { startLinks } from '../../faults/index.ts';
import type { LoadResult } from '../../results/run-result.ts';
import { createRunDirectory, type RunDirectory, type SuiteResult } from '../../results/index.ts';
import { resultsDirOf } from '../../config/paths.ts';
import { resolveSuiteOptions, runSuite, type SuiteDefinition } from '../../suite/index.ts';
import { healTopology } from '../../topology/control/index.ts';
import { resolveTopologySpec } from '../../topology/spec.ts';
import { startTopology } from '../../topology/start.ts';
import type { TopologySpec } from '../../topology/types.ts';

/**
 * What `dbproof test` and `dbproof gate` share: the config validated (suites, topology,
 * data set, scenarios) before anything starts, then topology → seed → app → suites →
 * load scenarios, every result handed over as it finishes.
 */
export interface CheckPlan {
  config: ResolvedConfig;
  configDir: string;
  spec: TopologySpec;
  provider: string;
  dataset: Dataset | undefined;
  suites: { suite: SuiteDefinition; options: unknown }[];
  scenarios: string[];
}

async function datasetOf(config: ResolvedConfig, configDir: string): Promise<Dataset | undefined> {
  if (config.dataset === false) return undefined;
  if (!config.dataset.file) return profile(config.dataset.profile ?? 'inspections');
  return datasetFromFile(path.resolve(configDir, config.dataset.file), 'dataset.file');
}

export async function planChecks(options: { config?: string; provider?: string; suites: string[]; scenarios: boolean }): Promise<CheckPlan> {
  const { config, file } = await loadConfig(options.config);
  const configDir = path.dirname(file);
  for (const name of options.suites) if (!(name in SUITES)) throw new UsageError(`no suite named '${name}'; the suites are ${SUITE_NAMES.join(', ')}`);
  const suites = options.suites.map((name) => {
    const suite = SUITES[name as SuiteName] as unknown as SuiteDefinition;
    return { suite, options: config.suites[name] };
  });
  const spec = { ...(config.topology as TopologySpec), ...(options.provider ? { provider: options.provider as TopologySpec['provider'] } : {}) };
  const resolved = resolveTopologySpec(spec);
  for (const { suite, options: suiteOptions } of suites) {
    // Resolved for every suite (not only those with a preflight): a bad option costs no topology.
    const resolvedOptions = resolveSuiteOptions(suite, suiteOptions);
    suite.preflight?.(resolvedOptions, resolved);
    const { replicas = 0, redis = false } = suite.requires;
    if (resolved.replicas < replicas) throw new UsageError(`suite ${suite.name} needs at least ${replicas} replica(s); the config's topology has ${resolved.replicas} (set topology.replicas)`);
    if (redis && !resolved.redis) throw new UsageError(`suite ${suite.name} needs Redis; the config's topology has none (set topology.redis: true)`);
  }
  const scenarios = options.scenarios ? Object.keys(config.scenarios) : [];
  // A k6 scenario where k6 is missing is found before anything starts.
  if (scenarios.some((name) => config.scenarios[name]!.engine === 'k6') && !k6OnPath()) throw new UsageError(K6_MISSING);
  const dataset = await datasetOf(config, configDir);
  // A data set that cannot fit is refused before a topology starts (a profile's was checked with the config).
  if (dataset && config.dataset) checkCapacity(dataset, config.dataset.scale);
  return { config, configDir, spec, provider: resolved.provider, dataset, suites, scenarios };
}

export interface CheckHooks {
  say(line: string): void;
  /** Show each load's progress on stderr (live on a terminal, a line every 5 s in CI). */
  progress?: boolean;
  /** The run's folder exists (before anything starts). */
  onRun?(run: RunDirectory): Promise<void> | void;
  onSuite?(result: SuiteResult): Promise<void> | void;
  onLoad?(result: LoadResult): Promise<void> | void;
}

/** Runs the plan; suites that promote a replica get a fresh topology each, after the rest. */
export async function runChecks(plan: CheckPlan, hooks: CheckHooks): Promise<{ run: RunDirectory; suites: SuiteResult[]; loads: LoadResult[] }> {
  const run = await createRunDirectory(resultsDirOf(plan.config, plan.configDir));
  await hooks.onRun?.(run);
  const shared = plan.suites.filter((p) => !p.suite.requires.destructive);
  const groups: { suites: CheckPlan['suites']; scenarios: string[] }[] = [];
  if (shared.length || plan.scenarios.length) groups.push({ suites: shared, scenarios: plan.scenarios });
  for (const destructive of plan.suites.filter((p) => p.suite.requires.destructive)) groups.push({ suites: [destructive], scenarios: [] });
  const suites: SuiteResult[] = [];
  const loads: LoadResult[] = [];
  for (const group of groups) {
    await withEnvironment(plan, group.suites.map((s) => s.suite.name).concat(group.scenarios), hooks.say, async ({ topology, links, app, database }) => {
      for (const { suite, options } of group.suites) {
        hooks.say(`${suite.name}: ${suite.description}`);
        let result: SuiteResult;
        try {
          result = await runSuite(suite, { topology, links, app, database, progress: (line) => hooks.say(`${suite.name}: ${line}`) }, options, { target: plan.config.app.name, run });
        } catch (error) {
          if (error instanceof DbproofError) throw error;
          throw new InfrastructureError(`suite ${suite.name} could not run: ${(error as Error).message}`, error);
        }
        suites.push(result);
        await hooks.onSuite?.(result);
        // The next check finds every node up and caught up, and every link clean.
        links.reset();
        await healTopology(topology);
      }
      for (const name of group.scenarios) {
        const scenario = plan.config.scenarios[name]!;
        hooks.say(`load ${name}: ${describeRequests(scenario)}, ${scenario.rate ? `${scenario.rate}/s (open model)` : `${scenario.connections ?? 10} connections (closed model)`} for ${scenario.durationMs / 1000} s`);
        const reporter = hooks.progress ? progressReporter({ label: `load ${name}`, durationMs: scenario.durationMs }) : undefined;
        let result: LoadResult;
        try {
          result = await runScenario(app.url, name, scenario, reporter?.onProgress);
        } finally {
          reporter?.done();
        }
        loads.push(result);
        await hooks.onLoad?.(result);
      }
    });
  }
  return { run, suites, loads };
}

type Environment = { topology: Awaited<ReturnType<typeof startTopology>>; links: Awaited<ReturnType<typeof startLinks>>; app: { url: string }; database: string };

async function withEnvironment(plan: CheckPlan, what: string[], say: (line: string) => void, body: (environment: Environment) => Promise<void>): Promise<void> {
  say(`starting the topology (${what.join(', ')})`);
  const topology = await startTopology(plan.spec);
  const cleanups: (() => Promise<void>)[] = [() => topology.stop()];
  try {
    const { config } = plan;
    // A cluster dbproof started is its own to seed. An external one is someone's staging
    // cluster: its databases are never replaced; the data set goes into a database of
    // this run's own, handed to the app, and dropped afterwards.
    const external = topology.provider === 'external';
    const database = plan.dataset && config.dataset && external ? `dbproof_app_${randomBytes(6).toString('hex')}` : new URL(topology.primary.url).pathname.slice(1);
    if (plan.dataset && config.dataset) {
      say(`seeding ${plan.dataset.name} (scale ${config.dataset.scale}) into ${external ? `${database}, a database of this run's own on the external primary` : database}`);
      if (external) cleanups.unshift(() => dropCreatedDatabase(topology.adminUrl, database));
      const snapshot = await seedAppDatabase(topology, plan.dataset, { scale: config.dataset.scale, seed: config.dataset.seed, progress: silentProgress, database, replace: !external });
      // A template this run made on someone else's server goes with the run.
      if (external && snapshot.report.loaded) cleanups.unshift(() => snapshot.drop());
    }
    const links = await startLinks(topology, { database });
    cleanups.unshift(() => links.close());
    const app = await startApp(config.app, { primary: links.writer.url, replicas: links.replicas.map((l) => l.url), redis: links.redis?.url }, plan.configDir);
    cleanups.unshift(() => app.stop());
    say(`${config.app.name} is ready at ${app.url}`);
    await body({ topology, links, app, database });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}
