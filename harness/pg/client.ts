import pg from 'pg';

export type ClientTarget = string | pg.ClientConfig;

/**
 * Runs `fn` with a fresh connection that is always closed. Short-lived on purpose:
 * node operations run while nodes are killed and frozen, and a pooled connection
 * to a frozen node would hang the next caller.
 */
export async function withClient<T>(
  target: ClientTarget,
  fn: (client: pg.Client) => Promise<T>,
  connectTimeoutMs = 5000,
): Promise<T> {
  const config: pg.ClientConfig = typeof target === 'string' ? { connectionString: target } : { ...target };
  config.connectionTimeoutMillis ??= connectTimeoutMs;
  const client = new pg.Client(config);
  // A connection that dies under us (node killed) must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** One query on a fresh connection; returns the rows. */
export async function queryRows<R extends pg.QueryResultRow = pg.QueryResultRow>(
  target: ClientTarget,
  sql: string,
  values: unknown[] = [],
  connectTimeoutMs?: number,
): Promise<R[]> {
  return withClient(target, async (client) => (await client.query<R>(sql, values)).rows, connectTimeoutMs);
}

/** Builds a postgres:// URL with `URL`, never by concatenation (passwords may hold any character). */
export function postgresUrl(parts: {
  user: string;
  password: string;
  port: number;
  database: string;
  host?: string;
}): string {
  const url = new URL('postgres://placeholder');
  url.hostname = parts.host ?? '127.0.0.1';
  url.port = String(parts.port);
  url.username = parts.user;
  url.password = parts.password;
  url.pathname = `/${parts.database}`;
  return url.toString();
}

/** The same server and credentials, another database (`postgres` for maintenance, a clone, the app's). */
export function databaseUrl(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}
