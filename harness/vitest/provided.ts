import type { TopologyHandle } from '../topology/control/protocol.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's topology, provided by dbproof's globalSetup. */
    dbproof: TopologyHandle;
  }
}
