import { Redis } from 'ioredis';

/**
 * A read-through cache in Redis (REDIS_URL), falling back to the database when Redis is
 * missing or down: a cache outage makes requests slower, never failing. Bounded waits,
 * so a frozen Redis costs at most ~200 ms per request.
 */
export interface Cache {
  getOrLoad<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T>;
  invalidate(key: string): Promise<void>;
  stats(): { hits: number; misses: number; errors: number };
  close(): Promise<void>;
}

/**
 * `fallback: false` (EXAMPLE_CACHE_FALLBACK=off) makes a Redis failure fail the request:
 * only the negative control of dbproof's Redis-loss suite runs the app that way.
 */
export function createCache(url: string | undefined, options: { fallback?: boolean; prefix?: string } = {}): Cache {
  const fallback = options.fallback ?? true;
  // Keys are namespaced (by database): apps sharing one Redis must not read each other's entries.
  const prefix = options.prefix ?? '';
  const counters = { hits: 0, misses: 0, errors: 0 };
  const redis = url ? new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 0, commandTimeout: 200, enableOfflineQueue: false, retryStrategy: () => 500 }) : undefined;
  redis?.on('error', () => {});
  return {
    async getOrLoad(key, ttlSeconds, load) {
      if (redis) {
        try {
          const cached = await redis.get(prefix + key);
          if (cached !== null) {
            counters.hits++;
            return JSON.parse(cached);
          }
        } catch (error) {
          counters.errors++;
          if (!fallback) throw error;
        }
      }
      counters.misses++;
      const value = await load();
      if (redis) await redis.set(prefix + key, JSON.stringify(value), 'EX', ttlSeconds).catch(() => counters.errors++);
      return value;
    },
    async invalidate(key) {
      await redis?.del(prefix + key).catch(() => counters.errors++);
    },
    stats: () => ({ ...counters }),
    async close() {
      redis?.disconnect();
    },
  };
}
