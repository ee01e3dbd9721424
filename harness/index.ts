/** dbproof's programmatic API. */
export { startTopology, resolveTopologySpec, replicationStatus, MAX_REPLICAS } from './topology/index.ts';
export type * from './topology/types.ts';
export { DbproofError, UsageError, InfrastructureError } from './errors.ts';
export { redact } from './redact.ts';
