import { boundedRedis } from './redis.ts';

/**
 * A read-through cache in Redis (REDIS_URL), falling back to the database when Redis is
 * missing or down: a cache outage makes requests slower, never failing. Bounded waits,
 * so a frozen Redis costs at most ~200 ms per request.
 *
 * Writes go through the cache (`put` after the commit, with the committed value), and
 * read-through fills only add a key that is absent (SET NX): a fill that read an old
 * value from a replica cannot overwrite what a write has just put there.
 */
export interface Cache {
  getOrLoad<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T>;
  /** After a write: the new value replaces the cached one. */
  put(key: string, ttlSeconds: number, value: unknown): Promise<void>;
  stats(): { hits: number; misses: number; errors: number };
  close(): Promise<void>;
}

/**
 * `fallback: false` (EXAMPLE_CACHE_FALLBACK=off) makes a Redis failure fail the request;
 * `writeThrough: false` (EXAMPLE_CACHE_INVALIDATION=off) leaves the old value cached after
 * a write. Only the negative controls of dbproof's cache suites run the app that way.
 */
export function createCache(
  url: string | undefined,
  options: { fallback?: boolean; writeThrough?: boolean; prefix?: string } = {},
): Cache {
  const fallback = options.fallback ?? true;
  const writeThrough = options.writeThrough ?? true;
  // Keys are namespaced (by database): apps sharing one Redis must not read each other's entries.
  const prefix = options.prefix ?? '';
  const counters = { hits: 0, misses: 0, errors: 0 };
  const redis = url ? boundedRedis(url) : undefined;
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
      if (redis)
        await redis.set(prefix + key, JSON.stringify(value), 'EX', ttlSeconds, 'NX').catch(() => counters.errors++);
      return value;
    },
    async put(key, ttlSeconds, value) {
      if (!writeThrough) return;
      await redis?.set(prefix + key, JSON.stringify(value), 'EX', ttlSeconds).catch(() => counters.errors++);
    },
    stats: () => ({ ...counters }),
    async close() {
      redis?.disconnect();
    },
  };
}
