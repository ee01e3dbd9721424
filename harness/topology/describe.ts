import type { NodeDescription, PgNode, ProviderName, RedisNode, TopologyDescription } from './types.ts';

/**
 * The description `up --json` prints and the state file keeps, the same for every
 * provider; `where` adds what locates a node's process (a PID file, a container).
 */
export function describeTopology<P extends PgNode, R extends RedisNode>(
  provider: ProviderName,
  nodes: { primary: P; replicas: P[]; redis: R | undefined; pids: number[] },
  where: { postgres: (node: P) => Partial<NodeDescription>; redis: (node: R) => Partial<NodeDescription> },
): TopologyDescription {
  const { primary, replicas, redis } = nodes;
  return {
    provider,
    primary: primary.url,
    replicas: replicas.map((r) => r.url),
    redis: redis?.url ?? null,
    admin: primary.adminUrl,
    pids: nodes.pids,
    nodes: [
      ...[primary, ...replicas].map((n) => ({
        name: n.name,
        kind: 'postgres' as const,
        port: n.port,
        url: n.adminUrl,
        ...where.postgres(n),
      })),
      ...(redis
        ? [{ name: 'redis', kind: 'redis' as const, port: redis.port, url: redis.url, ...where.redis(redis) }]
        : []),
    ],
  };
}
