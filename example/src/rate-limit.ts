import type http from 'node:http';
import { boundedRedis } from './redis.ts';

/**
 * The reference app's rate limiter, on the `/api/` routes: at most `limit` requests per
 * client in each fixed window of `windowMs` (aligned to the epoch), counted in Redis so that
 * every instance of the app shares one count. A client is its API key (`X-Api-Key`), else
 * the address its connection comes from.
 *
 * Its naive variants, each a switch for dbproof's rate-limit suite to catch:
 * `EXAMPLE_RATE_LIMIT_STORE=memory`, a count in each instance's memory (N instances behind
 * a balancer admit N× the limit); `EXAMPLE_RATE_LIMIT_TRUST_XFF=on`, the client's address
 * taken from `X-Forwarded-For` whoever sent it (a client that makes one up each time is
 * never limited); `EXAMPLE_RATE_LIMIT_BY=address`, the address only, the API key ignored
 * (clients behind one address share one count: the quiet ones are refused with the busy);
 * `EXAMPLE_RATE_LIMIT_RETRY_AFTER=floor`, Retry-After rounded down (0, "now", in a 1 s window);
 * `EXAMPLE_RATE_LIMIT_BY=key-only`, the API key only, every client without one sharing one count
 * (clients told apart by address are one client); `EXAMPLE_RATE_LIMIT_REMAINING=off-by-one`,
 * RateLimit-Remaining one above the truth (the last admitted request says one remains).
 */
export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  store: 'redis' | 'memory';
  /** When Redis cannot answer: `open` admits, `closed` refuses with 503. */
  fail: 'open' | 'closed';
  trustForwardedFor: boolean;
  /** `key`: the API key, else the address; `address`: the address only; `key-only`: the key, one count for all without. */
  by: 'key' | 'address' | 'key-only';
  /** Retry-After rounds the wait up (`ceil`), or down (`floor`: "retry now" in the window's last second). */
  retryAfter: 'ceil' | 'floor';
  /** RateLimit-Remaining as counted (`exact`), or one above (`off-by-one`). */
  remaining: 'exact' | 'off-by-one';
}

export function rateLimitOptionsFromEnv(env = process.env): RateLimitOptions {
  const naive = env.EXAMPLE_NAIVE === '1';
  return {
    limit: Number(env.EXAMPLE_RATE_LIMIT ?? 10),
    windowMs: Number(env.EXAMPLE_RATE_LIMIT_WINDOW_MS ?? 1000),
    store: naive || env.EXAMPLE_RATE_LIMIT_STORE === 'memory' || !env.REDIS_URL ? 'memory' : 'redis',
    fail: env.EXAMPLE_RATE_LIMIT_FAIL === 'closed' ? 'closed' : 'open',
    trustForwardedFor: naive || env.EXAMPLE_RATE_LIMIT_TRUST_XFF === 'on',
    by:
      env.EXAMPLE_RATE_LIMIT_BY === 'address' || env.EXAMPLE_RATE_LIMIT_BY === 'key-only'
        ? env.EXAMPLE_RATE_LIMIT_BY
        : 'key',
    retryAfter: env.EXAMPLE_RATE_LIMIT_RETRY_AFTER === 'floor' ? 'floor' : 'ceil',
    remaining: env.EXAMPLE_RATE_LIMIT_REMAINING === 'off-by-one' ? 'off-by-one' : 'exact',
  };
}

/** What the limiter decided: admitted or not, with what the RateLimit headers say; `unavailable` when Redis did not answer. */
export type Decision =
  | { kind: 'counted'; admitted: boolean; limit: number; remaining: number; resetMs: number }
  | { kind: 'unavailable' };

export interface RateLimiter {
  readonly options: RateLimitOptions;
  /** Counts one request of the client that sent `request`. */
  take(request: http.IncomingMessage): Promise<Decision>;
  close(): Promise<void>;
}

// One round trip: the count and its expiry set together, so a key never outlives its window.
const INCREMENT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export function createRateLimiter(
  options: RateLimitOptions,
  redisUrl: string | undefined,
  prefix: string,
): RateLimiter {
  // A count that times out is let through (fail open) or refused (closed): at the cache's
  // 200 ms bound, a busy machine's slow Redis let requests through uncounted, above the limit
  // (dbproof's rate-limit suite caught it). A Redis that is down fails at once either way.
  const redis = options.store === 'redis' && redisUrl ? boundedRedis(redisUrl, 2000) : undefined;
  const memory = new Map<string, number>();
  const clientOf = (request: http.IncomingMessage) => {
    const key = request.headers['x-api-key'];
    if (options.by !== 'address' && typeof key === 'string' && key) return `key:${key}`;
    if (options.by === 'key-only') return 'anonymous';
    const forwarded = request.headers['x-forwarded-for'];
    if (options.trustForwardedFor && typeof forwarded === 'string' && forwarded)
      return `address:${forwarded.split(',')[0]!.trim()}`;
    return `address:${request.socket.remoteAddress}`;
  };
  const count = async (key: string): Promise<number> => {
    if (redis) return Number(await redis.eval(INCREMENT, 1, key, String(options.windowMs * 2)));
    const n = (memory.get(key) ?? 0) + 1;
    memory.set(key, n);
    return n;
  };
  let memoryWindow = -1;
  return {
    options,
    async take(request) {
      const now = Date.now();
      const window = Math.floor(now / options.windowMs);
      if (!redis && window !== memoryWindow) {
        memory.clear();
        memoryWindow = window;
      }
      let n: number;
      try {
        n = await count(`${prefix}ratelimit:${clientOf(request)}:${window}`);
      } catch {
        return { kind: 'unavailable' };
      }
      return {
        kind: 'counted',
        admitted: n <= options.limit,
        limit: options.limit,
        remaining: Math.max(0, options.limit - n + (options.remaining === 'off-by-one' ? 1 : 0)),
        resetMs: (window + 1) * options.windowMs - now,
      };
    },
    async close() {
      redis?.disconnect();
    },
  };
}

/**
 * The headers of a decision (IETF draft RateLimit fields, delta seconds), and the answer a
 * refused request gets: 429 with Retry-After, or 503 when the limiter could not count and
 * fails closed. Undefined: the request goes on.
 */
export function limitAnswer(
  decision: Decision,
  options: RateLimitOptions,
  response: http.ServerResponse,
): { status: number; body: unknown } | undefined {
  if (decision.kind === 'unavailable') {
    if (options.fail === 'open') return undefined;
    response.setHeader('retry-after', '1');
    return { status: 503, body: { error: 'the rate limiter is unavailable' } };
  }
  const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
  response.setHeader('ratelimit-limit', String(decision.limit));
  response.setHeader('ratelimit-remaining', String(decision.remaining));
  response.setHeader('ratelimit-reset', String(resetSeconds));
  if (decision.admitted) return undefined;
  response.setHeader(
    'retry-after',
    String(options.retryAfter === 'floor' ? Math.floor(decision.resetMs / 1000) : resetSeconds),
  );
  return { status: 429, body: { error: 'too many requests' } };
}
