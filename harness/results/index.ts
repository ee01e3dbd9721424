export { SCHEMA_VERSION, suiteResultSchema, type SuiteResult, type TimelineRecord } from './schema.ts';
export { createRunDirectory, writeSuiteResult, readSuiteResult, writeFileAtomic, type RunDirectory } from './write.ts';
