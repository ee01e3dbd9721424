import { DbproofError } from '../errors.ts';
import { withClient } from '../pg/client.ts';
import { queryShape, loadParser } from './fingerprint.ts';
import type { QueryEvent } from './types.ts';

/** A database node to watch, by a URL whose role may read pg_stat_statements of every role (a superuser or pg_read_all_stats). */
export interface WatchedNode {
  name: string;
  adminUrl: string;
}

interface StatementRow {
  key: string;
  query: string;
  calls: number;
  rows: number;
  total_ms: number;
}

type Snapshot = Map<string, StatementRow>;

async function snapshot(node: WatchedNode, role: string, database: string | undefined): Promise<Snapshot> {
  try {
    return await withClient(node.adminUrl, async (client) => {
      const { rows } = await client.query<StatementRow>(
        `SELECT s.dbid || ':' || s.queryid AS key, s.query, s.calls::int AS calls, s.rows::int AS rows, s.total_exec_time AS total_ms
           FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
          WHERE r.rolname = $1 AND ($2::text IS NULL OR d.datname = $2)`,
        [role, database ?? null],
      );
      return new Map(rows.map((r) => [r.key, r]));
    });
  } catch (error) {
    if (/pg_stat_statements/.test(String(error))) {
      throw new DbproofError(
        `pg_stat_statements is not available on ${node.name}: add it to shared_preload_libraries and run CREATE EXTENSION pg_stat_statements (dbproof's topologies have it)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Black-box capture: the statements the database ran for `role` (in `database`, when
 * given) while `fn` ran, from pg_stat_statements deltas on every watched node. Works
 * for any app, driver or language, provided nothing else runs as that role in that
 * database meanwhile (requests one at a time).
 */
export async function captureServerSide<T>(nodes: WatchedNode[], role: string, fn: () => Promise<T>, database?: string): Promise<{ value: T; events: QueryEvent[] }> {
  await loadParser();
  const before = await Promise.all(nodes.map((n) => snapshot(n, role, database)));
  const value = await fn();
  const after = await Promise.all(nodes.map((n) => snapshot(n, role, database)));
  const events: QueryEvent[] = [];
  nodes.forEach((node, i) => {
    for (const [key, row] of after[i]!) {
      const earlier = before[i]!.get(key);
      const calls = row.calls - (earlier?.calls ?? 0);
      if (calls <= 0) continue;
      events.push({
        fingerprint: queryShape(row.query).fingerprint,
        sql: row.query,
        durationMs: row.total_ms - (earlier?.total_ms ?? 0),
        rows: row.rows - (earlier?.rows ?? 0),
        node: node.name,
        calls,
      });
    }
  });
  return { value, events };
}
