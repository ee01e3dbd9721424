import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import type { Dataset } from '../../../fixtures/dataset/types.ts';
import { silentProgress } from '../../../fixtures/loader/progress.ts';
import { profile } from '../../../fixtures/profiles/index.ts';
import { replaceDatabase, seed } from '../../../fixtures/seed.ts';
import { SUITE_NAMES, SUITES, type SuiteName } from '../../../suites/index.ts';
import { startApp } from '../../app/index.ts';
import { formatVerdict } from '../../budgets/index.ts';
import { loadConfig, type ResolvedConfig } from '../../config/index.ts';
import { DbproofError, InfrastructureError, UsageError } from '../../errors.ts';
import { startLinks } from '../../faults/index.ts';
import { createRunDirectory, type RunDirectory, type SuiteResult } from '../../results/index.ts';
import { redact } from '../../redact.ts';
import { resolveSuiteOptions, runSuite, type SuiteDefinition } from '../../suite/index.ts';
import { healTopology } from '../../topology/control/index.ts';
import { waitForReplayed } from '../../topology/replication.ts';
import { resolveTopologySpec } from '../../topology/spec.ts';
import { startTopology } from '../../topology/start.ts';
import type { TopologySpec } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';

export const TEST_HELP = `dbproof test [suite …] [--config FILE] [--provider native|containers|compose] [--json]

Starts the topology, loads the data set, starts the app with the topology's URLs, runs
the suites against it and judges each budget. With no suite named, runs the suites of the
config (or every suite when the config names none). The config is --config, else
./dbproof.config.ts, else the reference app's demo (example/dbproof.config.ts).

Suites: ${SUITE_NAMES.join(', ')}

Each suite's result (verdicts, measurements, fault events, per-bucket timeline) is
written to results/<run-id>/suites/<suite>--<app>.json (results.dir in the config).
  --json   print one JSON object: { runId, resultsDir, pass, suites: [...] }
Exit codes: 0 every budget holds · 1 a budget is broken · 2 bad input or infrastructure`;

async function datasetOf(config: ResolvedConfig, configDir: string): Promise<Dataset | undefined> {
  if (config.dataset === false) return undefined;
  if (!config.dataset.file) return profile(config.dataset.profile ?? 'inspections');
  const file = path.resolve(configDir, config.dataset.file);
  if (!existsSync(file)) throw new UsageError(`dataset.file: no such file ${file}`);
  const module = (await import(pathToFileURL(file).href)) as { default?: Dataset };
  if (!module.default || !Array.isArray(module.default.order)) throw new UsageError(`dataset.file ${file}: export default defineDataset({...}) (from dbproof/fixtures)`);
  return module.default;
}

interface Plan {
  suite: SuiteDefinition;
  options: unknown;
}

export async function test(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs('test', argv, { config: { type: 'string' }, json: { type: 'boolean' }, provider: { type: 'string' } }, false, true);
  if (options.help) {
    console.log(TEST_HELP);
    return 0;
  }
  // Everything is validated before anything starts: a typo costs no topology.
  const { config, file } = await loadConfig(options.config as string | undefined);
  const configDir = path.dirname(file);
  const names = positionals.length > 0 ? positionals : Object.keys(config.suites).length > 0 ? Object.keys(config.suites) : SUITE_NAMES;
  for (const name of names) if (!(name in SUITES)) throw new UsageError(`no suite named '${name}'; the suites are ${SUITE_NAMES.join(', ')}`);
  const plans: Plan[] = names.map((name) => {
    const suite = SUITES[name as SuiteName] as unknown as SuiteDefinition;
    resolveSuiteOptions(suite, config.suites[name]);
    return { suite, options: config.suites[name] };
  });
  const spec = { ...(config.topology as TopologySpec), ...(options.provider ? { provider: options.provider as TopologySpec['provider'] } : {}) };
  const resolved = resolveTopologySpec(spec);
  for (const { suite, options: suiteOptions } of plans) {
    suite.preflight?.(resolveSuiteOptions(suite, suiteOptions), resolved);
    const { replicas = 0, redis = false } = suite.requires;
    if (resolved.replicas < replicas) throw new UsageError(`suite ${suite.name} needs at least ${replicas} replica(s); the config's topology has ${resolved.replicas} (set topology.replicas)`);
    if (redis && !resolved.redis) throw new UsageError(`suite ${suite.name} needs Redis; the config's topology has none (set topology.redis: true)`);
  }
  const dataset = await datasetOf(config, configDir);
  const say = (line: string) => {
    if (!options.json) console.error(`dbproof: ${redact(line)}`);
  };

  const run = await createRunDirectory(path.resolve(config.results.dir));
  const results: SuiteResult[] = [];
  // Suites that promote a replica change the topology for good: each gets a fresh one, after the others.
  const shared = plans.filter((p) => !p.suite.requires.destructive);
  const groups = [...(shared.length ? [shared] : []), ...plans.filter((p) => p.suite.requires.destructive).map((p) => [p])];
  for (const group of groups) results.push(...(await runGroup(group, { config, configDir, spec, dataset, run, say, human: !options.json })));

  const pass = results.every((r) => r.pass);
  if (options.json) printJson({ runId: run.runId, resultsDir: run.dir, pass, suites: results });
  else console.log(`${pass ? 'PASS' : 'FAIL'}: ${results.filter((r) => r.pass).length} of ${results.length} suite(s) kept every promise; results in ${path.relative(process.cwd(), run.dir) || run.dir}`);
  return pass ? 0 : 1;
}

async function runGroup(
  plans: Plan[],
  env: { config: ResolvedConfig; configDir: string; spec: TopologySpec; dataset: Dataset | undefined; run: RunDirectory; say: (line: string) => void; human: boolean },
): Promise<SuiteResult[]> {
  const { config } = env;
  env.say(`starting the topology (${plans.map((p) => p.suite.name).join(', ')})`);
  const topology = await startTopology(env.spec);
  const cleanups: (() => Promise<void>)[] = [() => topology.stop()];
  try {
    const database = new URL(topology.primary.url).pathname.slice(1);
    if (env.dataset) {
      env.say(`seeding ${env.dataset.name} (scale ${config.dataset && config.dataset.scale}) into ${database}`);
      const snapshot = await seed(topology, env.dataset, { scale: config.dataset ? config.dataset.scale : undefined, seed: config.dataset ? config.dataset.seed : undefined, progress: silentProgress });
      await replaceDatabase(snapshot, topology.adminUrl, database, 'app');
      await Promise.all(topology.replicas.map((r) => waitForReplayed(topology.adminUrl, r.adminUrl, r.name, 120_000)));
    }
    const links = await startLinks(topology);
    cleanups.unshift(() => links.close());
    const app = await startApp(config.app, { primary: links.writer.url, replicas: links.replicas.map((l) => l.url), redis: links.redis?.url }, env.configDir);
    cleanups.unshift(() => app.stop());
    env.say(`${config.app.name} is ready at ${app.url}`);
    const results: SuiteResult[] = [];
    for (const plan of plans) {
      env.say(`${plan.suite.name}: ${plan.suite.description}`);
      let result: SuiteResult;
      try {
        result = await runSuite(plan.suite, { topology, links, app, database, progress: (line) => env.say(`${plan.suite.name}: ${line}`) }, plan.options, { target: config.app.name, run: env.run });
      } catch (error) {
        if (error instanceof DbproofError) throw error;
        throw new InfrastructureError(`suite ${plan.suite.name} could not run: ${(error as Error).message}`, error);
      }
      results.push(result);
      if (env.human) console.log([`${result.pass ? 'PASS' : 'FAIL'} ${result.suite}`, ...result.verdicts.map((v) => `  ${formatVerdict(v)}`)].join('\n'));
      // The next suite finds every node up and caught up, and every link clean.
      links.reset();
      await healTopology(topology);
    }
    return results;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}
