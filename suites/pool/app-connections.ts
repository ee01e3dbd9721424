import { queryRows } from '../../harness/pg/client.ts';
import type { Topology } from '../../harness/topology/types.ts';

/**
 * The app's connections as the servers see them (pg_stat_activity on every node):
 * client backends of the app's role in the app's database. dbproof's own sessions run
 * as another role and are not counted.
 */
export async function appConnections(topology: Topology, role: string, database: string): Promise<number> {
  const nodes = [topology.primary, ...topology.replicas];
  const counts = await Promise.all(
    nodes.map((node) =>
      queryRows<{ n: number }>(
        node.adminUrl,
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = $1 AND datname = $2",
        [role, database],
        2000,
      ).then(
        (rows) => rows[0]!.n,
        () => 0, // a node that is down holds no connection of the app's
      ),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}
