import pg from 'pg';

/**
 * Read/write routing: writes go to the primary, reads to the replicas in turn (or to
 * the primary when there are none). Configured only by DATABASE_URL and
 * DATABASE_REPLICA_URLS, like the apps teams run in production.
 */
export interface Db {
  read<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  write<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export function connect(primaryUrl: string, replicaUrls: string[]): Db {
  // Bounded waits: a frozen replica must fail a request, not hang it (the failover suites check this).
  const options = { max: 10, connectionTimeoutMillis: 2000, statement_timeout: 5000, query_timeout: 6000 };
  const primary = new pg.Pool({ connectionString: primaryUrl, ...options });
  const replicas = replicaUrls.map((url) => new pg.Pool({ connectionString: url, ...options }));
  for (const pool of [primary, ...replicas]) pool.on('error', () => {}); // a killed node must not crash the app
  let next = 0;
  const reader = () => (replicas.length === 0 ? primary : replicas[next++ % replicas.length]!);
  return {
    read: async (sql, values) => (await reader().query(sql, values)).rows,
    write: async (sql, values) => (await primary.query(sql, values)).rows,
    close: async () => {
      await Promise.all([primary, ...replicas].map((p) => p.end()));
    },
  };
}
