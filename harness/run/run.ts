import { progressReporter } from '../../load/progress.ts';
import { describeRequests, runScenario } from '../../load/scenario.ts';
import { DbproofError, InfrastructureError } from '../errors.ts';
import { createRunDirectory, type RunDirectory, type SuiteResult } from '../results/index.ts';
import { RunRecorder } from '../results/run-recorder.ts';
import type { LoadResult, RunResult } from '../results/run-result.ts';
import { runSuite } from '../suite/index.ts';
import { healTopology } from '../topology/control/index.ts';
import { compareWithBaseline } from './baseline.ts';
import { withEnvironment, type Environment } from './environment.ts';
import type { RunPlan } from './plan.ts';
import type { PlannedSuite } from './suites.ts';

/** What a caller sees of a run as it goes; every hook is optional. */
export interface RunHooks {
  /** A line of progress for a person (the CLI: stderr, silenced by --json). */
  say?(line: string): void;
  /** A line to be seen even when progress is silenced: the plan's notices, said before anything starts. */
  warn?(line: string): void;
  /** Show each load's progress on stderr (live on a terminal, a line every 5 s in CI). */
  progress?: boolean;
  /** The run's folder exists, and its first (incomplete) files are in it. */
  onRun?(run: RunDirectory): Promise<void> | void;
  /** A suite finished; written to the run's files right after. */
  onSuite?(result: SuiteResult): Promise<void> | void;
  /** A load scenario finished, with its regression verdict against the baseline; written to the run's files after. */
  onLoad?(result: LoadResult): Promise<void> | void;
}

export interface RunOutcome {
  run: RunDirectory;
  /** What summary.json holds: every suite, load and verdict, complete. */
  result: RunResult;
  /** Every budget held (`result.pass`): the gate's exit code is 0, else 1. */
  pass: boolean;
}

type Group = { suites: PlannedSuite[]; scenarios: string[] };

/**
 * One topology for the suites that leave it as they found it and the load scenarios; one
 * more for each suite that promotes a replica.
 */
function groupsOf(plan: RunPlan): Group[] {
  const shared = plan.suites.filter((p) => !p.suite.requires.destructive);
  const groups: Group[] = [];
  if (shared.length || plan.scenarios.length) groups.push({ suites: shared, scenarios: plan.scenarios });
  for (const destructive of plan.suites.filter((p) => p.suite.requires.destructive))
    groups.push({ suites: [destructive], scenarios: [] });
  return groups;
}

/**
 * Runs a plan: topology → data set → app → suites → load scenarios, each result judged,
 * handed to the hooks and recorded as it finishes (summary.json, junit.xml, summary.md and
 * report.html are rewritten after each, marked incomplete until the end).
 */
export async function runPlan(plan: RunPlan, hooks: RunHooks = {}): Promise<RunOutcome> {
  const say = (line: string) => hooks.say?.(line);
  for (const notice of plan.notices) hooks.warn?.(notice);
  const recorder = new RunRecorder({ provider: plan.provider, app: plan.config.app.name });
  const run = await createRunDirectory(plan.resultsDir);
  await recorder.start(run);
  await hooks.onRun?.(run);
  for (const group of groupsOf(plan)) {
    await withEnvironment(
      plan,
      group.suites.map((s) => s.suite.name).concat(group.scenarios),
      say,
      async (environment) => {
        for (const planned of group.suites) {
          const result = await runPlannedSuite(plan, planned, environment, run, say);
          await hooks.onSuite?.(result);
          await recorder.addSuite(result);
          // The next check finds every node up and caught up, and every link clean.
          environment.links.reset();
          await healTopology(environment.topology);
        }
        for (const name of group.scenarios) {
          const result = await runLoad(plan, name, environment.app.url, say, hooks.progress ?? false);
          if (plan.baseline) compareWithBaseline(result, plan.baseline);
          await hooks.onLoad?.(result);
          await recorder.addLoad(result);
        }
      },
    );
  }
  const result = await recorder.finish();
  return { run, result, pass: result.pass };
}

async function runPlannedSuite(
  plan: RunPlan,
  { suite, options }: PlannedSuite,
  environment: Environment,
  run: RunDirectory,
  say: (line: string) => void,
): Promise<SuiteResult> {
  say(`${suite.name}: ${suite.description}`);
  try {
    return await runSuite(suite, { ...environment, progress: (line) => say(`${suite.name}: ${line}`) }, options, {
      target: plan.config.app.name,
      run,
    });
  } catch (error) {
    if (error instanceof DbproofError) throw error;
    throw new InfrastructureError(`suite ${suite.name} could not run: ${(error as Error).message}`, error);
  }
}

async function runLoad(
  plan: RunPlan,
  name: string,
  appUrl: string,
  say: (line: string) => void,
  progress: boolean,
): Promise<LoadResult> {
  const scenario = plan.config.scenarios[name]!;
  const model = scenario.rate
    ? `${scenario.rate}/s (open model)`
    : `${scenario.connections ?? 10} connections (closed model)`;
  say(`load ${name}: ${describeRequests(scenario)}, ${model} for ${scenario.durationMs / 1000} s`);
  const reporter = progress ? progressReporter({ label: `load ${name}`, durationMs: scenario.durationMs }) : undefined;
  try {
    return await runScenario(appUrl, name, scenario, reporter?.onProgress);
  } finally {
    reporter?.done();
  }
}
