// The reference app: `node --import tsx example/main.ts`, configured only by
// DATABASE_URL, DATABASE_REPLICA_URLS (comma-separated), REDIS_URL (optional) and PORT.
import { createCache } from './src/cache.ts';
import { connect, optionsFromEnv } from './src/db.ts';
import { createServer } from './src/server.ts';

const primary = process.env.DATABASE_URL;
if (!primary) {
  console.error('example app: set DATABASE_URL (dbproof exec sets it for you)');
  process.exit(2);
}
const replicas = (process.env.DATABASE_REPLICA_URLS ?? '').split(',').filter(Boolean);
const db = connect(primary, replicas, optionsFromEnv());
const cache = createCache(process.env.REDIS_URL, { fallback: process.env.EXAMPLE_CACHE_FALLBACK !== 'off', prefix: `${new URL(primary).pathname.slice(1)}:` });
const server = createServer(db, cache);
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`example app listening on http://127.0.0.1:${address.port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    void Promise.all([db.close(), cache.close()]).finally(() => process.exit(0));
  });
}
