export {
  defineSuite,
  type SuiteDefinition,
  type SuiteContext,
  type SuiteOutcome,
  type SuiteRequirements,
} from './types.ts';
export { runSuite, resolveSuiteOptions, checkRequirements, timelineRecord, type RunSuiteOptions } from './run.ts';
export { LastError } from './last-error.ts';
export { Session, parseRequest, field, type RequestSpec, type RequestInput, type Answer } from '../http/session.ts';
