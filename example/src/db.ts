import pg from 'pg';

/**
 * Read/write routing: writes go to the primary, reads to the replicas in turn (or to
 * the primary when there are none). Configured only by DATABASE_URL and
 * DATABASE_REPLICA_URLS, like the apps teams run in production.
 *
 * Reads fail over: a replica that refuses, resets or does not answer within the read
 * timeout is skipped for a few seconds and the read is retried on the next replica,
 * then on the primary. Two switches exist only to give dbproof's failover suites their
 * negative controls: EXAMPLE_TIMEOUTS=off (no timeouts at all: a frozen replica hangs
 * requests) and EXAMPLE_READ_FAILOVER=off (no retry: a dead replica fails requests).
 */
export interface Db {
  read<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  write<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export interface DbOptions {
  timeouts?: boolean;
  readFailover?: boolean;
  /** How long a replica may take to connect or answer a read, in ms. */
  readTimeoutMs?: number;
  /** How long a failed replica is left alone, in ms. */
  quarantineMs?: number;
}

/** A node failure (connection refused, reset, timed out, server shutting down), as opposed to an error in the SQL. */
function isNodeFailure(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // A SQLSTATE (five characters) is the server's verdict on the statement, unless it is
  // a connection (08) or shutdown (57) class; anything else (ECONNREFUSED, ECONNRESET,
  // a timeout) is the node failing.
  if (code && /^[0-9A-Z]{5}$/.test(code)) return /^(08|57)/.test(code);
  return true;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): DbOptions {
  return { timeouts: env.EXAMPLE_TIMEOUTS !== 'off', readFailover: env.EXAMPLE_READ_FAILOVER !== 'off' };
}

export function connect(primaryUrl: string, replicaUrls: string[], options: DbOptions = {}): Db {
  const timeouts = options.timeouts ?? true;
  const readTimeoutMs = options.readTimeoutMs ?? 500;
  const poolOptions = (forReads: boolean): pg.PoolConfig =>
    timeouts ? { max: 10, connectionTimeoutMillis: forReads ? readTimeoutMs : 2000, query_timeout: forReads ? readTimeoutMs : 6000, statement_timeout: 5000 } : { max: 10 };
  const primary = new pg.Pool({ connectionString: primaryUrl, ...poolOptions(false) });
  const replicas = replicaUrls.map((url) => ({ pool: new pg.Pool({ connectionString: url, ...poolOptions(true) }), quarantinedUntil: 0 }));
  for (const pool of [primary, ...replicas.map((r) => r.pool)]) {
    // A killed node must not crash the app: idle clients report to the pool, and a
    // client that is checked out reports on itself (dbproof's failover suite found the
    // app crashing there, on the first kill of a replica under load).
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
  }
  let next = 0;

  /** One query on a pooled connection; a connection that failed is destroyed, never reused. */
  async function run<R extends pg.QueryResultRow>(pool: pg.Pool, sql: string, values?: unknown[]): Promise<R[]> {
    const client = await pool.connect();
    try {
      const result = await client.query<R>(sql, values);
      client.release();
      return result.rows;
    } catch (error) {
      client.release(isNodeFailure(error) ? (error as Error) : undefined);
      throw error;
    }
  }

  return {
    async read(sql, values) {
      const now = Date.now();
      const order = replicas.map((_, i) => replicas[(next + i) % replicas.length]!);
      next++;
      const candidates = options.readFailover === false ? order.slice(0, 1) : order.filter((r) => r.quarantinedUntil <= now);
      for (const replica of candidates) {
        try {
          return await run(replica.pool, sql, values);
        } catch (error) {
          if (!isNodeFailure(error) || options.readFailover === false) throw error;
          replica.quarantinedUntil = Date.now() + (options.quarantineMs ?? 3000);
        }
      }
      return run(primary, sql, values);
    },
    write: (sql, values) => run(primary, sql, values),
    close: async () => {
      await Promise.all([primary, ...replicas.map((r) => r.pool)].map((p) => p.end()));
    },
  };
}
