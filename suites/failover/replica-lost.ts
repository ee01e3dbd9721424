import { defineSuite } from '../../harness/suite/index.ts';
import { readsUnderFault, readsUnderFaultOptions } from './reads-under-fault.ts';

/** "Reads fail over to a healthy replica in under 2 s": a replica killed (SIGKILL, the host died) under a steady read load. */
export const replicaLost = defineSuite({
  name: 'replica-lost',
  description: 'a replica is killed under a read load: reads keep working and recover within budget',
  options: readsUnderFaultOptions,
  requires: { replicas: 1 },
  async run(context, options) {
    const replica = context.topology.replicas[options.replica - 1]!;
    const { lastError: _, ...outcome } = await readsUnderFault(context, options, {
      kind: 'kill',
      undoKind: 'start',
      apply: () => replica.kill(),
      undo: () => replica.start(),
    });
    return outcome;
  },
});
