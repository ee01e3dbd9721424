import type { PgNode, Topology } from '../topology/types.ts';
import { startFaultProxy, type FaultProxy } from './proxy.ts';

/**
 * The network between the app and each node, made of fault proxies: the app gets URLs
 * that go through them, so a suite can slow, black-hole or cut one link (Toxiproxy's
 * toxics) without touching the node, and re-point the writer endpoint on promotion.
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
  /** Sends the writer endpoint to `node` (closing its open connections); returns when done. */
  repointWriter(node: PgNode): void;
  /** Removes every toxic on every link. */
  reset(): void;
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
  const pgLink = async (name: string, node: PgNode): Promise<Link> => {
    const proxy = await startFaultProxy({ port: node.port });
    return { name, proxy, url: throughProxy(node.url, proxy.port, options.database) };
  };
  const writer = await pgLink('writer', topology.primary);
  const replicas = await Promise.all(topology.replicas.map((replica) => pgLink(replica.name, replica)));
  let redis: Link | undefined;
  if (topology.redis) {
    const proxy = await startFaultProxy({ port: topology.redis.port });
    redis = { name: 'redis', proxy, url: throughProxy(topology.redis.url, proxy.port) };
  }
  const all = () => [writer, ...replicas, ...(redis ? [redis] : [])];
  return {
    writer,
    replicas,
    redis,
    all,
    repointWriter: (node) => writer.proxy.retarget({ port: node.port }),
    reset: () => {
      for (const link of all()) link.proxy.reset();
    },
    close: async () => {
      await Promise.all(all().map((link) => link.proxy.close()));
    },
  };
}
