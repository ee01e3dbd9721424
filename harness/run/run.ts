import { progressReporter } from '../../load/progress.ts';
import { describeRequests, runScenario } from '../../load/scenario.ts';
import { compareStatementsWithBaseline, withTopStatements } from './statements.ts';
import { DbproofError, InfrastructureError } from '../errors.ts';
import { createRunDirectory, type RunDirectory, type SuiteResult, writeSuiteResult } from '../results/index.ts';
import { RunRecorder } from '../results/run-recorder.ts';
import type { EarlierAttempt, LoadResult, RunResult } from '../results/run-result.ts';
import { runSuite } from '../suite/index.ts';
import { healTopology } from '../topology/control/index.ts';
import { runAttempts, type Attempt } from './attempts.ts';
import { compareWithBaseline } from './baseline.ts';
import { withEnvironment, type Environment } from './environment.ts';
import type { RunPlan } from './plan.ts';
import { watchMachine } from './machine.ts';
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
  /**
   * An attempt is run again: a time-dependent budget broke while the machine was saturated
   * (the reason in a line). The earlier attempt is kept in summary.json's earlierAttempts.
   */
  onRetry?(source: string, why: string): Promise<void> | void;
}

export interface RunOutcome {
  run: RunDirectory;
  /** What summary.json holds: every suite, load and verdict, complete. */
  result: RunResult;
  /** Every budget held (`result.pass`): the gate's exit code is 0, else 1 (2 when `result.inconclusive`). */
  pass: boolean;
}

/** One piece of a run's work on a topology: a suite, or a load scenario by name. */
export type Work = { suite: PlannedSuite } | { scenario: string };
type Group = { work: Work[] };

/** What a piece of work is called in the run's lines and in `withEnvironment`'s plan. */
const nameOf = (work: Work) => ('suite' in work ? work.suite.suite.name : work.scenario);

/**
 * One topology for the suites that leave it as they found it and the load scenarios, in that
 * order; one more for each suite that promotes a replica, after it. A suite that reads what
 * the others saw (`requires.runsLast`: headers judges every answer the run got) goes after
 * the suites and the scenarios of its topology, and that topology after the destructive ones.
 */
export function groupsOf(plan: Pick<RunPlan, 'suites' | 'scenarios'>): Group[] {
  const shared = plan.suites.filter((p) => !p.suite.requires.destructive);
  const last = (p: PlannedSuite) => p.suite.requires.runsLast ?? false;
  const work: Work[] = [
    ...shared.filter((p) => !last(p)).map((suite) => ({ suite })),
    ...plan.scenarios.map((scenario) => ({ scenario })),
    ...shared.filter(last).map((suite) => ({ suite })),
  ];
  const groups: Group[] = plan.suites
    .filter((p) => p.suite.requires.destructive)
    .map((destructive) => ({ work: [{ suite: destructive }] }));
  if (!work.length) return groups;
  // The shared topology comes first (its quick checks answer soonest), unless a suite on it
  // reads the whole run: then last, after the destructive suites' answers too.
  return shared.some(last) ? [...groups, { work }] : [{ work }, ...groups];
}

/**
 * Runs a plan: topology → data set → app → suites → load scenarios, each result judged,
 * handed to the hooks and recorded as it finishes (summary.json, junit.xml, summary.md and
 * report.html are rewritten after each, marked incomplete until the end).
 */
export async function runPlan(plan: RunPlan, hooks: RunHooks = {}): Promise<RunOutcome> {
  const say = (line: string) => hooks.say?.(line);
  const warn = (line: string) => hooks.warn?.(line);
  for (const notice of plan.notices) hooks.warn?.(notice);
  const recorder = new RunRecorder({
    provider: plan.provider,
    app: plan.config.app.name,
    shard: plan.shard,
    configHash: plan.configHash,
  });
  const run = await createRunDirectory(plan.resultsDir);
  await recorder.start(run);
  await hooks.onRun?.(run);
  // The app's URLs on the topologies already stopped: a suite that reads the whole run's answers knows them as its app's.
  const earlierUrls: string[] = [];
  for (const group of groupsOf(plan)) {
    await withEnvironment(plan, group.work.map(nameOf), say, async (environment) => {
      // The next check (or attempt) finds every node up and caught up, and every link clean.
      const heal = async () => {
        environment.links.reset();
        // The link host has removed every toxic before the next check starts (a dead host is exit 2 here).
        await environment.links.settled();
        await healTopology(environment.topology);
      };
      const retried = (source: string) => async (why: string) => {
        say(`${source}: ${why}`);
        await hooks.onRetry?.(source, why);
        await heal();
      };
      for (const work of group.work) {
        if ('suite' in work) {
          const planned = work.suite;
          const source = `suite ${planned.suite.name}`;
          const { final, earlier } = await runAttempts(
            (n) =>
              watched(plan, environment, n, () =>
                runPlannedSuite(plan, planned, environment, planned.suite.requires.runsLast ? earlierUrls : [], say),
              ).then((a) => written(run, a)),
            plan.config.noise.retries,
            retried(source),
          );
          await recorder.addEarlierAttempts(earlier.map((a, i) => earlierAttempt(source, i + 1, a)));
          const result = { ...final, pass: final.verdicts.every((v) => v.pass) };
          await hooks.onSuite?.(result);
          await recorder.addSuite(result);
          await heal();
          continue;
        }
        const name = work.scenario;
        const source = `load ${name}`;
        const { final, earlier } = await runAttempts(
          (n) =>
            watched(plan, environment, n, async () => {
              const top = plan.config.results.topStatements;
              const result = await withTopStatements(environment, top, warn, () =>
                runLoad(plan, name, environment.app.urls, say, hooks.progress ?? false),
              );
              if (plan.baseline) {
                compareWithBaseline(result, plan.baseline);
                compareStatementsWithBaseline(result, plan.baseline, top);
              }
              return result;
            }),
          plan.config.noise.retries,
          retried(source),
        );
        await recorder.addEarlierAttempts(earlier.map((a, i) => earlierAttempt(source, i + 1, a)));
        await hooks.onLoad?.(final);
        await recorder.addLoad(final);
      }
      earlierUrls.push(...environment.app.urls);
    });
  }
  const result = await recorder.finish();
  return { run, result, pass: result.pass };
}

/**
 * One attempt with the machine watched meanwhile: the result carries the machine's record
 * (`noise`, drawn in the report) and which attempt it was; the attempt's noise decides
 * whether a broken time-dependent budget counts.
 */
async function watched<T extends SuiteResult | LoadResult>(
  plan: RunPlan,
  environment: Environment,
  attempt: number,
  body: () => Promise<T>,
): Promise<Attempt<T>> {
  const watch = plan.config.noise.monitor ? await watchMachine(plan, environment) : undefined;
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await watch?.stop();
    throw error;
  }
  const machine = await watch?.stop('buckets' in result ? result.buckets : result.timelines.flatMap((t) => t.buckets));
  if (!machine) return { result: { ...result, attempt }, noise: undefined };
  return { result: { ...result, attempt, noise: machine.record }, noise: machine.noise };
}

/** Writes an attempt's suite file once the machine's record and the attempt's number are in it: every attempt keeps a file. */
async function written(run: RunDirectory, attempt: Attempt<SuiteResult>): Promise<Attempt<SuiteResult>> {
  await writeSuiteResult(run, attempt.result);
  return attempt;
}

function earlierAttempt<T extends SuiteResult | LoadResult>(
  source: string,
  attempt: number,
  { result, noise }: Attempt<T>,
): EarlierAttempt {
  return { source, attempt, noise: noise!, verdicts: result.verdicts };
}

async function runPlannedSuite(
  plan: RunPlan,
  { suite, options }: PlannedSuite,
  environment: Environment,
  earlierUrls: string[],
  say: (line: string) => void,
): Promise<SuiteResult> {
  say(`${suite.name}: ${suite.description}`);
  try {
    return await runSuite(
      suite,
      {
        ...environment,
        app: {
          ...environment.app,
          spread: plan.config.app.spread,
          ...(earlierUrls.length ? { earlierUrls: [...earlierUrls] } : {}),
        },
        configDir: plan.configDir,
        scenarios: plan.config.scenarios,
        progress: (line) => say(`${suite.name}: ${line}`),
      },
      options,
      {
        target: plan.config.app.name,
      },
    );
  } catch (error) {
    if (error instanceof DbproofError) throw error;
    throw new InfrastructureError(`suite ${suite.name} could not run: ${(error as Error).message}`, error);
  }
}

async function runLoad(
  plan: RunPlan,
  name: string,
  /** Every instance of the app: the scenario's load is spread over them. */
  appUrls: string[],
  say: (line: string) => void,
  progress: boolean,
): Promise<LoadResult> {
  const scenario = plan.config.scenarios[name]!;
  const model = scenario.rate
    ? `${scenario.rate}/s (open model)`
    : `${scenario.connections ?? 10} connections (closed model)`;
  say(`load ${name}: ${describeRequests(scenario)}, ${model} for ${scenario.durationMs / 1000} s`);
  const reporter = progress ? progressReporter({ label: `load ${name}`, durationMs: scenario.durationMs }) : undefined;
  let result: LoadResult;
  try {
    result = await runScenario(appUrls, name, scenario, reporter?.onProgress);
  } finally {
    reporter?.done();
  }
  // With no budget, nothing is judged: a scenario on which every request failed must not let
  // the gate pass for having nothing to fail (`dbproof load` refuses the same).
  if (result.verdicts.length === 0 && result.requests > 0 && result.errors === result.requests)
    throw new InfrastructureError(
      `scenario ${name}: every one of its ${result.requests} requests failed, and it has no budget to judge them: check that the app answers ${describeRequests(scenario)} with 2xx, or give the scenario budgets (errors=…) to judge the failures`,
    );
  return result;
}
