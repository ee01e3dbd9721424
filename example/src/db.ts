import pg from 'pg';
import { BreakerOpenError, createBreaker, type Breaker } from './breaker.ts';
import { LagMonitor, parseLsn } from './lag-monitor.ts';

/**
 * Read/write routing: writes go to the primary, reads to the replicas in turn (or to
 * the primary when there are none). Configured only by DATABASE_URL and
 * DATABASE_REPLICA_URLS, like the apps teams run in production.
 *
 * What makes it production-ready, each with a switch that turns it off so that
 * dbproof's suites can show they catch its absence (EXAMPLE_NAIVE=1 turns all off):
 * - timeouts (EXAMPLE_TIMEOUTS=off): bounded connect and query times;
 * - read failover (EXAMPLE_READ_FAILOVER=off): a replica that refuses, resets or does not
 *   answer is skipped for a while and the read retried on the next one, then the primary;
 * - consistency (EXAMPLE_REPLICA_CONSISTENCY=off): a replica more than `maxLagMs` behind is
 *   not read from, and a session that has just written reads only where its write is;
 * - pool hygiene (EXAMPLE_POOL_LEAK=on): a connection always goes back to the pool;
 * - a circuit breaker per node (EXAMPLE_BREAKER=off): the primary and each replica have
 *   their own (see breaker.ts), so a frozen replica opens only its breaker: reads skip it
 *   at once and go to another replica, and writes to the primary never see it.
 */
export interface Db {
  /** A read; `after` (an LSN the caller wrote at) keeps it off replicas that have not replayed it. */
  read<R extends pg.QueryResultRow>(sql: string, values?: unknown[], after?: string): Promise<R[]>;
  /** A write on the primary; `lsn` is the WAL position after its commit (for read-your-writes). */
  write<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<{ rows: R[]; lsn: string }>;
  /** `work` in one transaction on the primary: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (query: Query) => Promise<T>): Promise<T>;
  /** One breaker per node: the primary's first, then each replica's (`replica1`, …). */
  readonly breakers: readonly Breaker[];
  close(): Promise<void>;
}

/** A statement inside a transaction; resolves with its rows. */
export type Query = <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) => Promise<R[]>;

export interface DbOptions {
  timeouts?: boolean;
  readFailover?: boolean;
  consistency?: boolean;
  /** Forget to release a connection when its query fails (the leak dbproof's pool suite finds). */
  leakOnError?: boolean;
  /** Each node's breaker opens after this many failures of that node in a row, for `resetMs`; undefined: no breakers. */
  breaker?: { failures: number; resetMs: number };
  /** How long a replica may take to connect or answer a read, in ms. */
  readTimeoutMs?: number;
  /** How long the primary may take to connect or answer, in ms. */
  writeTimeoutMs?: number;
  /** How long a failed replica is left alone, in ms. */
  quarantineMs?: number;
  /** A replica further behind than this is not read from. */
  maxLagMs?: number;
  poolMax?: number;
}

/** A node failure (connection refused, reset, timed out, server shutting down), as opposed to an error in the SQL. */
export function isNodeFailure(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // A SQLSTATE (five characters) is the server's verdict on the statement, unless it is
  // a connection (08) or shutdown (57) class, but for a cancelled statement (57014, a
  // statement timeout: the node answered); anything else (ECONNREFUSED, ECONNRESET,
  // a timeout) is the node failing.
  if (code && /^[0-9A-Z]{5}$/.test(code)) return /^(08|57)/.test(code) && code !== '57014';
  return !(error instanceof Error && error.name === 'BreakerOpenError');
}

const number = (raw: string | undefined, fallback: number) =>
  raw === undefined || raw === '' ? fallback : Number(raw);

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): DbOptions {
  const naive = env.EXAMPLE_NAIVE === '1';
  const on = (name: string) => !naive && env[name] !== 'off';
  return {
    timeouts: on('EXAMPLE_TIMEOUTS'),
    readFailover: on('EXAMPLE_READ_FAILOVER'),
    consistency: on('EXAMPLE_REPLICA_CONSISTENCY'),
    leakOnError: naive || env.EXAMPLE_POOL_LEAK === 'on',
    breaker: on('EXAMPLE_BREAKER')
      ? { failures: number(env.EXAMPLE_BREAKER_FAILURES, 5), resetMs: number(env.EXAMPLE_BREAKER_RESET_MS, 1000) }
      : undefined,
    readTimeoutMs: number(env.EXAMPLE_READ_TIMEOUT_MS, 500),
    writeTimeoutMs: number(env.EXAMPLE_WRITE_TIMEOUT_MS, 2000),
    maxLagMs: number(env.EXAMPLE_MAX_LAG_MS, 500),
    poolMax: number(env.EXAMPLE_POOL_MAX, 10),
  };
}

export function connect(primaryUrl: string, replicaUrls: string[], options: DbOptions = {}): Db {
  const timeouts = options.timeouts ?? true;
  const consistency = options.consistency ?? true;
  const readTimeoutMs = options.readTimeoutMs ?? 500;
  const writeTimeoutMs = options.writeTimeoutMs ?? 2000;
  const max = options.poolMax ?? 10;
  const poolOptions = (forReads: boolean): pg.PoolConfig => {
    const timeout = forReads ? readTimeoutMs : writeTimeoutMs;
    // Idle connections go after 1 s, so that after a burst the app's connections return to what they were.
    return timeouts
      ? {
          max,
          idleTimeoutMillis: 1000,
          connectionTimeoutMillis: timeout,
          query_timeout: timeout,
          statement_timeout: Math.max(timeout, 5000),
        }
      : { max };
  };
  const primary = new pg.Pool({ connectionString: primaryUrl, ...poolOptions(false) });
  const primaryBreaker = createBreaker('primary', options.breaker);
  const replicas = replicaUrls.map((url, i) => ({
    pool: new pg.Pool({ connectionString: url, ...poolOptions(true) }),
    quarantinedUntil: 0,
    breaker: createBreaker(`replica${i + 1}`, options.breaker),
  }));
  for (const pool of [primary, ...replicas.map((r) => r.pool)]) {
    // A killed node must not crash the app: idle clients report to the pool, and a
    // client that is checked out reports on itself (dbproof's failover suite found the
    // app crashing there, on the first kill of a replica under load).
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
  }
  const lag = consistency && replicas.length > 0 ? new LagMonitor(primaryUrl, replicaUrls, 100) : undefined;
  let next = 0;

  /** One query on a pooled connection; a connection that failed is destroyed, never reused. */
  async function run<R extends pg.QueryResultRow>(
    pool: pg.Pool,
    sql: string,
    values?: unknown[],
    afterCommit?: string,
  ): Promise<{ rows: R[]; after?: string }> {
    const client = await pool.connect();
    if (options.leakOnError) {
      // The naive variant: the release is skipped when the query throws, and the connection is lost to the pool.
      const result = await client.query<R>(sql, values);
      const after = afterCommit ? (await client.query<{ v: string }>(afterCommit)).rows[0]!.v : undefined;
      client.release();
      return { rows: result.rows, after };
    }
    try {
      const result = await client.query<R>(sql, values);
      const after = afterCommit ? (await client.query<{ v: string }>(afterCommit)).rows[0]!.v : undefined;
      client.release();
      return { rows: result.rows, after };
    } catch (error) {
      client.release(isNodeFailure(error) ? (error as Error) : undefined);
      throw error;
    }
  }

  /** Replicas a read may go to now: not quarantined, not too far behind, holding the caller's write. */
  function readable(after: string | undefined) {
    const now = Date.now();
    const order = replicas.map((_, i) => (next + i) % replicas.length);
    next++;
    if (options.readFailover === false) return order.slice(0, 1);
    const minimum = after ? parseLsn(after) : undefined;
    return order.filter((i) => {
      if (replicas[i]!.quarantinedUntil > now) return false;
      if (!lag) return true;
      return lag.lagMs(i) <= (options.maxLagMs ?? 500) && (minimum === undefined || lag.hasReplayed(i, minimum));
    });
  }

  return {
    breakers: [primaryBreaker, ...replicas.map((r) => r.breaker)],
    read: async <R extends pg.QueryResultRow>(sql: string, values?: unknown[], after?: string): Promise<R[]> => {
      for (const i of readable(consistency ? after : undefined)) {
        const replica = replicas[i]!;
        try {
          // Only this replica's failures count on its breaker: the read going elsewhere next is not a failure.
          return (await replica.breaker.run(() => run<R>(replica.pool, sql, values), isNodeFailure)).rows;
        } catch (error) {
          if (options.readFailover === false) throw error;
          // Its breaker is open: no attempt was made, the next replica at once.
          if (error instanceof BreakerOpenError) continue;
          if (!isNodeFailure(error)) throw error;
          replica.quarantinedUntil = Date.now() + (options.quarantineMs ?? 3000);
        }
      }
      return (await primaryBreaker.run(() => run<R>(primary, sql, values), isNodeFailure)).rows;
    },
    write: (sql, values) =>
      primaryBreaker.run(async () => {
        const { rows, after } = await run(primary, sql, values, 'SELECT pg_current_wal_lsn()::text AS v');
        return { rows: rows as never, lsn: after! };
      }, isNodeFailure),
    transaction: (work) =>
      primaryBreaker.run(async () => {
        const client = await primary.connect();
        try {
          await client.query('BEGIN');
          const result = await work(async (sql, values) => (await client.query(sql, values)).rows);
          await client.query('COMMIT');
          client.release();
          return result;
        } catch (error) {
          // A connection that failed, or cannot even roll back, is destroyed, never reused.
          const broken =
            isNodeFailure(error) ||
            !(await client.query('ROLLBACK').then(
              () => true,
              () => false,
            ));
          client.release(broken ? (error as Error) : undefined);
          throw error;
        }
      }, isNodeFailure),
    close: async () => {
      await lag?.close();
      await Promise.all([primary, ...replicas.map((r) => r.pool)].map((p) => p.end()));
    },
  };
}
