import { Redis } from 'ioredis';

/**
 * The cache's hit rate as Redis itself counts it (INFO stats: keyspace_hits and
 * keyspace_misses), so that any app is measured the same way, without an endpoint of
 * its own. Counted over every client of that Redis: a suite measures while its app is
 * the only one reading.
 */
export async function redisHitCounters(url: string): Promise<{ hits: number; misses: number }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('stats');
    const read = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return { hits: read('keyspace_hits'), misses: read('keyspace_misses') };
  } finally {
    redis.disconnect();
  }
}

/** Hits over hits and misses between two readings; null when nothing was read. */
export function hitRateBetween(
  before: { hits: number; misses: number },
  after: { hits: number; misses: number },
): number | null {
  const hits = after.hits - before.hits;
  const lookups = hits + after.misses - before.misses;
  return lookups > 0 ? hits / lookups : null;
}
