/** dbproof's programmatic API. */
export { resolveTopologySpec, replicationStatus, MAX_REPLICAS } from './topology/index.ts';
export { startTopology } from './providers/index.ts';
export type * from './topology/types.ts';
export { DbproofError, UsageError, InfrastructureError } from './errors.ts';
export { redact } from './redact.ts';
export { defineConfig, readConfig, type DbproofConfig, type TeamSuiteEntry } from './config/index.ts';
// The reference app's demo config, for `planRun({ config: DEMO_CONFIG })` (what `dbproof gate --demo` runs).
export { DEMO_CONFIG } from './config/index.ts';
// The run behind `dbproof gate`, `dbproof test` and `dbproof drill` (planDrill), for a team's own script (as Vitest exports startVitest beside its CLI).
export {
  planRun,
  runPlan,
  keepBaseline,
  planDrill,
  type DrillOptions,
  type RunOptions,
  type RunPlan,
  type RunHooks,
  type RunOutcome,
  type KeepBaselineOptions,
} from './run/index.ts';
// What a team's own suite is written with (README: Writing a suite of your own).
export {
  runSuite,
  defineSuite,
  timelineRecord,
  LastError,
  Session,
  parseRequest,
  type SuiteDefinition,
  type SuiteContext,
  type SuiteOutcome,
  type SuiteRequirements,
  type RequestSpec,
} from './suite/index.ts';
export {
  startSuiteLoad,
  type SuiteLoad,
  type SuiteLoadEntry,
  type SuiteLoadRequest,
} from '../load/engines/suite-load.ts';
export type { Timeline } from '../load/timeline.ts';
export type { FaultEvent } from './faults/schedule.ts';
// The zod a suite's options are written with: the same copy that validates them.
export { z } from 'zod';
export { queryRows, databaseUrl } from './pg/client.ts';
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
