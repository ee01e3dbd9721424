import { DbproofError, InfrastructureError } from '../errors.ts';
import { redact } from '../redact.ts';
import pg from 'pg';
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
  buffers: number;
}

type Snapshot = Map<string, StatementRow>;

const SNAPSHOT_SQL = `SELECT s.dbid || ':' || s.queryid AS key, s.query, s.calls::int AS calls, s.rows::int AS rows, s.total_exec_time AS total_ms,
        (s.shared_blks_hit + s.shared_blks_read)::float8 AS buffers
   FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
  WHERE r.rolname = $1 AND ($2::text IS NULL OR d.datname = $2)`;

const CONNECT_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'no such host',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  '28P01': 'password authentication failed',
  '28000': 'not allowed to connect',
  '3D000': 'no such database',
};

/** A node that cannot be reached is the user's to fix: one line naming it (password hidden) and what to check. */
function unreachable(node: WatchedNode, error: unknown): Error {
  const { code, message } = error as { code?: string; message?: string };
  const reason =
    (code && CONNECT_FAILURES[code]) ??
    (/timeout/i.test(String(message)) ? 'timed out' : String(message ?? error).split('\n')[0]!);
  return new InfrastructureError(
    `could not connect to ${redact(node.adminUrl)} (${redact(reason)}): check that the database is running and its URL's host, port, user and password`,
    error,
  );
}

function explain(node: WatchedNode, error: unknown): Error {
  if (/pg_stat_statements/.test(String(error))) {
    return new DbproofError(
      `pg_stat_statements is not available on ${node.name}: add it to shared_preload_libraries and run CREATE EXTENSION pg_stat_statements (dbproof's topologies have it)`,
      { cause: error },
    );
  }
  return error as Error;
}

/**
 * Watches pg_stat_statements on each node over connections kept open for the whole
 * check (opening one per snapshot cost ~10 ms of SCRAM authentication each).
 */
export class StatementWatcher {
  private constructor(
    private readonly nodes: WatchedNode[],
    private readonly clients: pg.Client[],
    private readonly role: string,
    private readonly database: string | undefined,
  ) {}

  static async open(nodes: WatchedNode[], role: string, database?: string): Promise<StatementWatcher> {
    await loadParser();
    const opened = await Promise.allSettled(
      nodes.map(async (node) => {
        const client = new pg.Client({ connectionString: node.adminUrl, connectionTimeoutMillis: 5000 });
        client.on('error', () => {});
        await client.connect().catch((error: unknown) => {
          throw unreachable(node, error);
        });
        // dbproof's own statements stay out of the statistics it reads.
        await client.query('SET pg_stat_statements.track = none').catch(() => {});
        return client;
      }),
    );
    const clients = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      // The nodes that did answer are not left connected.
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      throw failed.reason;
    }
    const watcher = new StatementWatcher(nodes, clients, role, database);
    await watcher.#snapshots().catch(async (error) => {
      await watcher.close();
      throw error;
    });
    return watcher;
  }

  async #snapshots(): Promise<Snapshot[]> {
    return Promise.all(
      this.clients.map(async (client, i) => {
        try {
          const { rows } = await client.query<StatementRow>(SNAPSHOT_SQL, [this.role, this.database ?? null]);
          return new Map(rows.map((r) => [r.key, r]));
        } catch (error) {
          throw explain(this.nodes[i]!, error);
        }
      }),
    );
  }

  /**
   * Every statement the role has run so far, summed over the nodes: a counter to wait on
   * ("half of the statements a request runs have run"), where `capture` says which ones.
   */
  async calls(): Promise<number> {
    let total = 0;
    for (const snapshot of await this.#snapshots()) for (const row of snapshot.values()) total += row.calls;
    return total;
  }

  /** The statements the database ran for the role while `fn` ran. */
  async capture<T>(fn: () => Promise<T>): Promise<{ value: T; events: QueryEvent[] }> {
    const before = await this.#snapshots();
    const value = await fn();
    const after = await this.#snapshots();
    const events: QueryEvent[] = [];
    this.nodes.forEach((node, i) => {
      for (const [key, row] of after[i]!) {
        const earlier = before[i]!.get(key);
        const calls = row.calls - (earlier?.calls ?? 0);
        if (calls <= 0) continue;
        events.push({
          fingerprint: queryShape(row.query).fingerprint,
          sql: row.query,
          durationMs: row.total_ms - (earlier?.total_ms ?? 0),
          rows: row.rows - (earlier?.rows ?? 0),
          buffers: row.buffers - (earlier?.buffers ?? 0),
          node: node.name,
          calls,
        });
      }
    });
    return { value, events };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.end().catch(() => {})));
  }
}

/**
 * Black-box capture: the statements the database ran for `role` (in `database`, when
 * given) while `fn` ran, from pg_stat_statements deltas on every watched node. Works
 * for any app, driver or language, provided nothing else runs as that role in that
 * database meanwhile (requests one at a time).
 */
export async function captureServerSide<T>(
  nodes: WatchedNode[],
  role: string,
  fn: () => Promise<T>,
  database?: string,
): Promise<{ value: T; events: QueryEvent[] }> {
  const watcher = await StatementWatcher.open(nodes, role, database);
  try {
    return await watcher.capture(fn);
  } finally {
    await watcher.close();
  }
}
