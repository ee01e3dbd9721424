export { resolveTopologySpec, MAX_REPLICAS } from './spec.ts';
export { replicationStatus } from './replication.ts';
export type * from './types.ts';
