export { captureQueries, instrumentPg, type KnownNode } from './in-process.ts';
export { captureServerSide, StatementWatcher, type WatchedNode } from './black-box.ts';
export { findNPlusOne, countShapes, perRequestTotals, type SizedRun } from './detect.ts';
export { checkEndpoint, checkSizedRequests, checkOperation, formatReport, type N1Report } from './n1.ts';
export { queryShape, loadParser } from './fingerprint.ts';
export type { QueryEvent, N1Finding, ShapeCounts } from './types.ts';
