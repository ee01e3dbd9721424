import type { TopologyHandle } from '../topology/control/protocol.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's (first) topology, provided by dbproof's globalSetup. */
    dbproof: TopologyHandle;
    /**
     * One topology per worker of the project (as many as its `maxWorkers`): the file a
     * worker runs gets the one at `VITEST_POOL_ID - 1`, so files that fault their topology
     * can run at once without faulting each other's.
     */
    dbproofWorkers: TopologyHandle[];
  }
}
