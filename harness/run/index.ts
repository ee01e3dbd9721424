/**
 * The run as a library, as `dbproof gate` and `dbproof test` use it: plan (everything
 * validated, nothing started), then run (topology → data set → app → suites → load
 * scenarios → results), e.g.
 *
 *   const plan = await planRun({ config: 'dbproof.config.ts' });
 *   const { pass, run } = await runPlan(plan, { say: (line) => console.error(line) });
 */
export { planRun, type RunOptions, type RunPlan } from './plan.ts';
export { runPlan, type RunHooks, type RunOutcome } from './run.ts';
export { keepBaseline, type Baseline, type KeepBaselineOptions } from './baseline.ts';
export type { PlannedSuite } from './suites.ts';
export type { Environment } from './environment.ts';
export { planDrill, type DrillOptions } from './drill.ts';
