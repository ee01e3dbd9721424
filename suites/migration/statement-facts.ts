import type pg from 'pg';
import type { MigrationStatement } from './sql-files.ts';

/** Lock modes that block the app's writes (INSERT/UPDATE/DELETE take ROW EXCLUSIVE); the strongest also block reads. */
export const BLOCKS_WRITES = new Set(['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']);

/** What a statement did, read in its transaction before it committed (where it could be) and from the samples. */
export interface StatementFacts {
  statement: MigrationStatement;
  start: number;
  end: number;
  error?: string;
  lockTimeout: string;
  statementTimeout: string;
  /** `table: mode`, the strongest relation locks it held. */
  locks: Map<string, string>;
  /** Tables it rewrote (a new relfilenode) and tables it read in full (a sequential scan), with their rows. */
  rewrote: { table: string; rows: number }[];
  scanned: { table: string; rows: number }[];
  walBytes: number;
  /** How long it waited for its own lock (seen in the samples). */
  waitedMs: number;
  /** Whether its locks, scans and rewrites were read in its transaction (else its locks are the samples'). */
  read: boolean;
  /** The replicas' worst replay lag while it ran, in bytes of WAL (set from the samples). */
  replicaLagBytes?: number;
  /** The phases pg_stat_progress_* showed while it ran, in order (an index build's, a rewrite's). */
  progress?: string[];
}

const LOCK_ORDER = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
];
export const stronger = (a: string | undefined, b: string) =>
  a && LOCK_ORDER.indexOf(a) >= LOCK_ORDER.indexOf(b) ? a : b;

export const USER_TABLES = `c.relkind IN ('r', 'p', 'm') AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)`;

export type Tables = Map<string, { filenode: string; rows: number }>;

export async function tables(client: pg.Client): Promise<Tables> {
  const { rows } = await client.query<{ name: string; filenode: string; rows: number }>(
    // A table never analysed has reltuples -1 (one the migration filled, or prepare did without
    // ANALYZE): its rows are estimated from its size at 64 bytes a row, so a big one is never
    // taken for an empty one.
    `SELECT c.oid::regclass::text AS name, pg_relation_filenode(c.oid)::text AS filenode,
            CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE pg_relation_size(c.oid) / 64.0 END::float8 AS rows
       FROM pg_class c WHERE ${USER_TABLES}`,
  );
  return new Map(rows.map((r) => [r.name, { filenode: r.filenode, rows: r.rows }]));
}

/**
 * The sequential scans this session has counted and not yet reported: read twice in the
 * same transaction block, around a statement, their difference is what the statement
 * scanned (Postgres 15 keeps these counts across transactions until it reports them, which
 * it does only between transactions, so a difference taken inside one is exact).
 */
async function pendingScans(client: pg.Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ name: string; scans: number }>(
    'SELECT relid::regclass::text AS name, seq_scan::int AS scans FROM pg_stat_xact_user_tables WHERE seq_scan > 0',
  );
  return new Map(rows.map((r) => [r.name, r.scans]));
}

/** Read inside the statement's transaction: the relation locks it holds. */
async function heldLocks(client: pg.Client): Promise<[string, string][]> {
  const { rows } = await client.query<{ name: string; mode: string }>(
    `SELECT c.oid::regclass::text AS name, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
      WHERE l.pid = pg_backend_pid() AND l.granted AND ${USER_TABLES}`,
  );
  return rows.map((r) => [r.name, r.mode]);
}

const lsn = async (client: pg.Client) =>
  (await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
const walBetween = async (client: pg.Client, from: string) =>
  Number(
    (
      await client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS bytes', [
        from,
      ])
    ).rows[0]!.bytes,
  );

/**
 * Runs the migration statement by statement on one connection. A statement dbproof may wrap
 * runs in a transaction of its own, so that what it did (locks, scans, rewrites) is read
 * before it commits: that adds one round trip to the time it holds its locks. A statement in
 * the file's own transaction is read in that transaction.
 */
export async function runMigration(
  client: pg.Client,
  statements: MigrationStatement[],
  now: () => number,
  onStatement: (index: number) => void,
): Promise<StatementFacts[]> {
  const facts: StatementFacts[] = [];
  let fileTransaction = false;
  for (const [i, statement] of statements.entries()) {
    onStatement(i);
    const settings = await client.query<{ lock: string; statement: string }>(
      "SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement",
    );
    const before = await tables(client);
    const from = await lsn(client);
    const fact: StatementFacts = {
      statement,
      start: now(),
      end: 0,
      lockTimeout: settings.rows[0]!.lock,
      statementTimeout: settings.rows[0]!.statement,
      locks: new Map(),
      rewrote: [],
      scanned: [],
      walBytes: 0,
      waitedMs: 0,
      read: statement.wrappable || (fileTransaction && statement.transaction === 0),
    };
    const rewritten = async () => {
      // TRUNCATE gives a table a new file, empty: no rows are copied, nothing to judge as a rewrite.
      if (statement.kind === 'TruncateStmt') return;
      for (const [table, after] of await tables(client)) {
        const was = before.get(table);
        if (was && was.filenode !== after.filenode) fact.rewrote.push({ table, rows: was.rows });
      }
    };
    try {
      let wrapped = statement.wrappable;
      if (wrapped) await client.query('BEGIN');
      const scansBefore = fact.read ? await pendingScans(client) : new Map<string, number>();
      try {
        await client.query(statement.sql);
      } catch (error) {
        // A statement Postgres refuses in a transaction block that the list in sql-files.ts
        // missed: run it again as the file has it, its locks then seen by sampling.
        if (!wrapped || (error as { code?: string }).code !== '25001') throw error;
        await client.query('ROLLBACK');
        wrapped = false;
        fact.read = false;
        await client.query(statement.sql);
      }
      if (fact.read) {
        for (const [table, mode] of await heldLocks(client))
          fact.locks.set(table, stronger(fact.locks.get(table), mode));
        for (const [table, scans] of await pendingScans(client))
          if (scans > (scansBefore.get(table) ?? 0)) fact.scanned.push({ table, rows: before.get(table)?.rows ?? 0 });
        await rewritten();
      }
      if (wrapped) await client.query('COMMIT');
      if (statement.transaction === 1) fileTransaction = true;
      if (statement.transaction === -1) fileTransaction = false;
      if (!fact.read) await rewritten();
    } catch (error) {
      fact.error = (error as Error).message;
      await client.query('ROLLBACK').catch(() => {});
    }
    fact.end = now();
    fact.walBytes = await walBetween(client, from).catch(() => 0);
    facts.push(fact);
    if (fact.error) break;
  }
  return facts;
}
