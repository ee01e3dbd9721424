/** dbproof's programmatic API. */
export { resolveTopologySpec, replicationStatus, MAX_REPLICAS } from './topology/index.ts';
export { startTopology } from './providers/index.ts';
export type * from './topology/types.ts';
export { DbproofError, UsageError, InfrastructureError } from './errors.ts';
export { redact } from './redact.ts';
export { defineConfig, readConfig, type DbproofConfig } from './config/index.ts';
// The run behind `dbproof gate` and `dbproof test`, for a team's own script (as Vitest exports startVitest beside its CLI).
export {
  planRun,
  runPlan,
  keepBaseline,
  type RunOptions,
  type RunPlan,
  type RunHooks,
  type RunOutcome,
  type KeepBaselineOptions,
} from './run/index.ts';
export { runSuite, defineSuite, type SuiteDefinition, type SuiteContext, type SuiteOutcome } from './suite/index.ts';
export { judge, atMost, atLeast, formatVerdict, type Budget, type Verdict } from './budgets/index.ts';
export {
  startFaultProxy,
  startLinks,
  runSchedule,
  type Toxic,
  type FaultProxy,
  type TopologyLinks,
} from './faults/index.ts';
export { startApp } from './app/index.ts';
export { writeSuiteResult, readSuiteResult, createRunDirectory, type SuiteResult } from './results/index.ts';
export { writeRunResult, readRunResult, reportHtml, type ResultWriter } from './results/writers/index.ts';
export type { RunResult, LoadResult, EndpointResult } from './results/run-result.ts';
export { runScenario, scenarioSchema, type Scenario } from '../load/scenario.ts';
export { runEngine } from '../load/engines/run.ts';
export { summarise, type LoadSummary } from '../load/summary.ts';
export { parseBudgets, judgeLoad } from './budgets/traffic.ts';
