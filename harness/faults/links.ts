import type { PgNode, Topology } from '../topology/types.ts';
import { startLinkHost } from './link-host.ts';
import type { FaultProxy } from './proxy.ts';

/**
 * The network between the app and each node, made of fault proxies: the app gets URLs
 * that go through them, so a suite can slow, black-hole or cut one link (Toxiproxy's
 * toxics) without touching the node, and re-point the writer endpoint on promotion.
 * The proxies of one topology run in a link host, a process of their own (link-host.ts),
 * so that the app's queries never wait for dbproof's own event loop.
 */
export interface Link {
  /** `writer` for the primary's endpoint, else the node's name (`replica1`, `redis`). */
  readonly name: string;
  readonly proxy: FaultProxy;
  /** The node's URL (app role) with the proxy's port: what the app is given. */
  readonly url: string;
}

export interface TopologyLinks {
  /**
   * A stable writer endpoint, as a virtual IP, HAProxy or PgBouncer gives in production:
   * it leads to the primary until `repointWriter` sends it to a promoted replica.
   */
  readonly writer: Link;
  readonly replicas: Link[];
  readonly redis: Link | undefined;
  /** Every link, writer first. */
  all(): Link[];
  /** Sends the writer endpoint to `node`, closing its open connections: in effect once `settled()` resolves. */
  repointWriter(node: PgNode): void;
  /** Removes every toxic on every link. */
  reset(): void;
  /** Resolves once every change made so far (toxics, repointWriter) is in effect. */
  settled(): Promise<void>;
  /** The link host's process id. */
  readonly pid: number;
  /** Closes every link and ends the link host; resolves once its process is gone. */
  close(): Promise<void>;
}

function throughProxy(url: string, port: number, database?: string): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  if (database) parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Puts a proxy in front of every node; `database` replaces the database in the Postgres URLs. */
export async function startLinks(topology: Topology, options: { database?: string } = {}): Promise<TopologyLinks> {
  const pgNodes: [string, PgNode][] = [
    ['writer', topology.primary],
    ...topology.replicas.map((r) => [r.name, r] as [string, PgNode]),
  ];
  const host = await startLinkHost([
    ...pgNodes.map(([, node]) => ({ port: node.port })),
    ...(topology.redis ? [{ port: topology.redis.port }] : []),
  ]);
  const link = (name: string, proxy: FaultProxy, url: string, database?: string): Link => ({
    name,
    proxy,
    url: throughProxy(url, proxy.port, database),
  });
  const pgLinks = pgNodes.map(([name, node], i) => link(name, host.proxies[i]!, node.url, options.database));
  const writer = pgLinks[0]!;
  const replicas = pgLinks.slice(1);
  const redis = topology.redis ? link('redis', host.proxies[pgNodes.length]!, topology.redis.url) : undefined;
  const all = () => [writer, ...replicas, ...(redis ? [redis] : [])];
  return {
    writer,
    replicas,
    redis,
    all,
    repointWriter: (node) => writer.proxy.retarget({ port: node.port }),
    reset: () => {
      for (const each of all()) each.proxy.reset();
    },
    settled: () => host.settled(),
    pid: host.pid,
    close: () => host.close(),
  };
}
