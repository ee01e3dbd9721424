import { Redis } from 'ioredis';

/**
 * A Redis client whose every wait is bounded: a command fails after `commandTimeoutMs`
 * (default 200 ms), none is queued
 * while disconnected, reconnecting every 500 ms. A Redis that is down or frozen costs a
 * request at most that, and the app decides what a failure means (the cache falls back,
 * the limiter fails open or closed). Its errors are the caller's to handle, never a crash.
 */
export function boundedRedis(url: string, commandTimeoutMs = 200): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    retryStrategy: () => 500,
  });
  redis.on('error', () => {});
  return redis;
}
