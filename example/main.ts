// The reference app: `node --import tsx example/main.ts`, configured only by
// DATABASE_URL, DATABASE_REPLICA_URLS (comma-separated), REDIS_URL (optional) and PORT.
// EXAMPLE_NAIVE=1 runs the deliberately naive variant (no timeouts, no failover, no
// cache fallback or write-through, no read-your-writes, a leaking pool, no breaker, a batch
// refused on its first bad item): every dbproof suite must fail it. The single switches are
// in src/db.ts, src/cache.ts and src/findings.ts.
import { createCache } from './src/cache.ts';
import { connect, optionsFromEnv } from './src/db.ts';
import { ensureFindingsTables } from './src/findings.ts';
import { createProbes } from './src/health.ts';
import { ensureNotesTable } from './src/inspections.ts';
import { ensurePlanIndexes } from './src/plans.ts';
import { createRateLimiter, rateLimitOptionsFromEnv } from './src/rate-limit.ts';
import { createServer } from './src/server.ts';
import { embeddingsFromEnv, ensureEmbeddings } from './src/similarity.ts';

const primary = process.env.DATABASE_URL;
if (!primary) {
  console.error('example app: set DATABASE_URL (dbproof exec sets it for you)');
  process.exit(2);
}
const naive = process.env.EXAMPLE_NAIVE === '1';
const replicas = (process.env.DATABASE_REPLICA_URLS ?? '').split(',').filter(Boolean);
const db = connect(primary, replicas, optionsFromEnv());
// Keys are namespaced by database: apps sharing one Redis must not read each other's entries or counts.
const cachePrefix = `${new URL(primary).pathname.slice(1)}:`;
const cache = createCache(process.env.REDIS_URL || undefined, {
  fallback: !naive && process.env.EXAMPLE_CACHE_FALLBACK !== 'off',
  writeThrough: !naive && process.env.EXAMPLE_CACHE_INVALIDATION !== 'off',
  prefix: cachePrefix,
});
// The schema steps run once, before the app serves anything, on a connection without the app's
// request time-outs: at scale 1 the plans' index takes longer than a write's 2 s, and on a busy
// machine so may a connection; the app then failed to start (`npm run bench -- drill` found it).
const setup = connect(primary, [], { timeouts: false, consistency: false });
try {
  await ensureNotesTable(setup);
  // EXAMPLE_PLAN_INDEX=off: the newest-media index never made (a migration that forgot it), the same statement on a Seq Scan.
  if (process.env.EXAMPLE_PLAN_INDEX !== 'off') await ensurePlanIndexes(setup);
  await ensureFindingsTables(setup);
  const embeddings = embeddingsFromEnv();
  if (embeddings) await ensureEmbeddings(setup, embeddings);
} finally {
  await setup.close();
}
const limiter = createRateLimiter(rateLimitOptionsFromEnv(), process.env.REDIS_URL || undefined, cachePrefix);
const probes = createProbes(db, process.env.REDIS_URL || undefined);
const server = createServer(db, cache, limiter, probes);
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address() as { port: number };
  console.log(`example app listening on http://127.0.0.1:${address.port}${naive ? ' (naive variant)' : ''}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    // Bounded: a pool that leaked connections (the naive variant) never finishes ending.
    setTimeout(() => process.exit(0), 2000).unref();
    void Promise.all([db.close(), cache.close(), limiter.close(), probes.close()]).finally(() => process.exit(0));
  });
}
