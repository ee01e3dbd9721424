import { MAX_REPLICAS } from '../../topology/spec.ts';
import type { TopologySpec } from '../../topology/types.ts';
import { UsageError } from '../../errors.ts';
import { integerOption, type OptionSpec, type ParsedArgs } from '../args.ts';

/** The flags `up` and `exec` share to shape the topology. */
export const TOPOLOGY_FLAGS: Record<string, OptionSpec> = {
  provider: { type: 'string' },
  replicas: { type: 'string' },
  'no-redis': { type: 'boolean' },
  synchronous: { type: 'boolean' },
};

export const TOPOLOGY_FLAGS_HELP = `  --provider P     native (processes, default), containers (Testcontainers) or compose
                   (docker-compose.yml); also DBPROOF_PROVIDER
  --replicas N     streaming read replicas, 0 to ${MAX_REPLICAS} (default 2)
  --no-redis       do not start Redis
  --synchronous    synchronous replication to every replica (no acknowledged write can be lost)`;

const PROVIDERS = ['native', 'containers', 'compose'] as const;

export function providerFrom(options: ParsedArgs['options']): (typeof PROVIDERS)[number] {
  const raw = String(options.provider ?? process.env.DBPROOF_PROVIDER ?? 'native');
  if (!(PROVIDERS as readonly string[]).includes(raw)) {
    throw new UsageError(
      `${options.provider ? '--provider' : 'DBPROOF_PROVIDER'} must be one of ${PROVIDERS.join(', ')} (got '${raw}')`,
    );
  }
  return raw as (typeof PROVIDERS)[number];
}

export function topologySpecFrom(options: ParsedArgs['options']): TopologySpec {
  const provider = providerFrom(options);
  const replicas = integerOption('replicas', options.replicas, 0, MAX_REPLICAS) ?? 2;
  if (provider === 'compose' && (replicas !== 2 || options.synchronous)) {
    throw new UsageError(
      'the compose topology is what docker-compose.yml says (2 asynchronous replicas); drop --replicas/--synchronous or use --provider containers',
    );
  }
  return {
    provider,
    replicas,
    redis: !options['no-redis'],
    synchronous: Boolean(options.synchronous),
  };
}
