import { DbproofError } from '../../errors.ts';
import { SqlPgNode } from '../../topology/sql-node.ts';
import type { ResolvedTopologySpec } from '../../topology/spec.ts';
import type { ExternalUrls, PgNode, PgRole, RedisNode, Topology, TopologyDescription } from '../../topology/types.ts';
import { queryRows } from '../../pg/client.ts';
import { pingRedis } from '../native/redis-node.ts';

function noLifecycle(name: string, operation: string): Promise<never> {
  return Promise.reject(
    new DbproofError(
      `${operation}() is not available on ${name} of an external topology: dbproof does not control its processes (use provider 'native' or 'containers' for fault tests)`,
    ),
  );
}

function portOf(url: string): number {
  return Number(new URL(url).port || 5432);
}

/**
 * A node of a cluster dbproof did not start (a staging cluster): SQL-level
 * operations work with the admin credentials, process-level ones are refused.
 */
class ExternalPgNode extends SqlPgNode implements PgNode {
  readonly port: number;
  readonly pid = undefined;

  constructor(
    name: string,
    role: PgRole,
    readonly url: string,
    adminUrl: string,
    upstream: () => PgNode | undefined,
  ) {
    super(name, role, adminUrl, upstream);
    this.port = portOf(url);
  }

  kill = () => noLifecycle(this.name, 'kill');
  stop = () => noLifecycle(this.name, 'stop');
  start = () => noLifecycle(this.name, 'start');
  restart = () => noLifecycle(this.name, 'restart');
  pause = () => noLifecycle(this.name, 'pause');
  resume = () => noLifecycle(this.name, 'resume');

  /** An external standby's application_name is whatever its operator chose: ask the standby. */
  protected override async applicationName(): Promise<string> {
    const [row] = await queryRows<{ name: string }>(
      this.adminUrl,
      "SELECT coalesce(substring(setting from 'application_name=([^ ]+)'), 'walreceiver') AS name FROM pg_settings WHERE name = 'primary_conninfo'",
    ).catch(() => []);
    return row?.name ?? this.name;
  }
}

class ExternalRedisNode implements RedisNode {
  readonly name = 'redis' as const;
  readonly port: number;
  readonly pid = undefined;
  constructor(readonly url: string) {
    this.port = Number(new URL(url).port || 6379);
  }
  kill = () => noLifecycle('redis', 'kill');
  stop = () => noLifecycle('redis', 'stop');
  start = () => noLifecycle('redis', 'start');
  restart = () => noLifecycle('redis', 'restart');
  pause = () => noLifecycle('redis', 'pause');
  resume = () => noLifecycle('redis', 'resume');
}

/** Attaches to URLs of an existing cluster; checks that each answers, starts and stops nothing. */
export async function attachExternalTopology(spec: ResolvedTopologySpec): Promise<Topology> {
  const urls = spec.external as Required<Pick<ExternalUrls, 'primary' | 'replicas'>> & ExternalUrls;
  const adminFor = (url: string): string => {
    if (!urls.admin) return url;
    // The admin credentials, on this node's host and port.
    const admin = new URL(urls.admin);
    const node = new URL(url);
    admin.host = node.host;
    return admin.toString();
  };
  const nodes: ExternalPgNode[] = [];
  const primary = new ExternalPgNode('primary', 'primary', urls.primary, adminFor(urls.primary), () => undefined);
  nodes.push(primary);
  const replicas = urls.replicas.map(
    (url, i) => new ExternalPgNode(`replica${i + 1}`, 'replica', url, adminFor(url), () => primary),
  );
  const redis = urls.redis ? new ExternalRedisNode(urls.redis) : undefined;
  try {
    await Promise.all([
      ...[primary, ...replicas].map((n) => queryRows(n.url, 'SELECT 1')),
      redis && pingRedis(redis.url, 3000),
    ]);
  } catch (error) {
    throw new DbproofError(
      `the external topology does not answer: ${String((error as Error).message ?? error)} (check the URLs and that this machine may connect)`,
      { cause: error },
    );
  }
  const describe = (): TopologyDescription => ({
    provider: 'external',
    primary: primary.url,
    replicas: replicas.map((r) => r.url),
    redis: redis?.url ?? null,
    admin: primary.adminUrl,
    pids: [],
    nodes: [
      ...[primary, ...replicas].map((n) => ({
        name: n.name,
        kind: 'postgres' as const,
        port: n.port,
        url: n.adminUrl,
      })),
      ...(redis ? [{ name: 'redis', kind: 'redis' as const, port: redis.port, url: redis.url }] : []),
    ],
  });
  return {
    provider: 'external',
    primary,
    replicas,
    redis,
    adminUrl: primary.adminUrl,
    pids: () => [],
    describe,
    stop: async () => {},
  };
}
