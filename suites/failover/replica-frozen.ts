import { z } from 'zod';
import { defineSuite } from '../../harness/suite/index.ts';
import { readsUnderFault, readsUnderFaultOptions } from './reads-under-fault.ts';

/**
 * The nasty case: a replica that neither answers nor refuses (a frozen host, or a network
 * that drops everything). An app without connect and statement timeouts waits on it.
 */
export const replicaFrozen = defineSuite({
  name: 'replica-frozen',
  description:
    'a replica freezes (SIGSTOP, or a black hole on its link) under a read load: reads keep working and recover within budget',
  options: readsUnderFaultOptions.extend({
    /** `pause`: every process of the node stopped; `blackhole`: the app's link to it lets nothing through. */
    fault: z.enum(['pause', 'blackhole']).default('pause'),
  }),
  requires: { replicas: 1 },
  async run(context, options) {
    const replica = context.topology.replicas[options.replica - 1]!;
    const link = context.links.replicas[options.replica - 1]!;
    const fault =
      options.fault === 'pause'
        ? { kind: 'pause', undoKind: 'resume', apply: () => replica.pause(), undo: () => replica.resume() }
        : {
            kind: 'blackhole',
            undoKind: 'heal',
            apply: async () => {
              link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'downstream', name: 'blackhole-down' });
              link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'upstream', name: 'blackhole-up' });
            },
            undo: async () => link.proxy.reset(),
          };
    const { lastError: _, ...outcome } = await readsUnderFault(context, options, fault);
    return outcome;
  },
});
