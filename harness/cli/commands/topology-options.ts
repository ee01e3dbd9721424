import { MAX_REPLICAS } from '../../topology/spec.ts';
import type { TopologySpec } from '../../topology/types.ts';
import { integerOption, type OptionSpec, type ParsedArgs } from '../args.ts';

/** The flags `up` and `exec` share to shape the topology. */
export const TOPOLOGY_FLAGS: Record<string, OptionSpec> = {
  replicas: { type: 'string' },
  'no-redis': { type: 'boolean' },
  synchronous: { type: 'boolean' },
};

export const TOPOLOGY_FLAGS_HELP = `  --replicas N     streaming read replicas, 0 to ${MAX_REPLICAS} (default 2)
  --no-redis       do not start Redis
  --synchronous    synchronous replication to every replica (no acknowledged write can be lost)`;

export function topologySpecFrom(options: ParsedArgs['options']): TopologySpec {
  return {
    provider: 'native',
    replicas: integerOption('replicas', options.replicas, 0, MAX_REPLICAS) ?? 2,
    redis: !options['no-redis'],
    synchronous: Boolean(options.synchronous),
  };
}
