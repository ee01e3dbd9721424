import type { Db } from './db.ts';
import { boundedRedis } from './redis.ts';

/**
 * The reference app's probes, as an orchestrator asks them:
 * - liveness (`GET /live`): the process answers; it never asks a dependency, since a
 *   liveness that fails while the database is away restarts healthy instances in a loop;
 * - readiness (`GET /ready`): the primary answers `SELECT 1` and Redis `PING` (when the app
 *   has one), each within 500 ms; 503 naming what failed otherwise, so a balancer stops
 *   sending requests that could only fail.
 *
 * Naive switches for dbproof's health suite: `EXAMPLE_READINESS=constant`, a readiness that
 * always answers 200 (what `/health` does); `EXAMPLE_LIVENESS=deep`, a liveness that asks
 * the dependencies as readiness does.
 */
export interface Probes {
  live(): Promise<{ status: number; body: unknown }>;
  ready(): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const CHECK_MS = 500;

/** Resolves with '' when `check` succeeds within CHECK_MS, else with why not. */
async function failureOf(check: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_MS} ms`), CHECK_MS);
  });
  try {
    return await Promise.race([check().then(() => ''), late]);
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function createProbes(db: Db, redisUrl: string | undefined, env = process.env): Probes {
  const redis = redisUrl ? boundedRedis(redisUrl) : undefined;
  const dependencies = async () => {
    const [primary, cache] = await Promise.all([
      failureOf(() => db.write('SELECT 1')),
      redis ? failureOf(() => redis.ping()) : Promise.resolve(''),
    ]);
    const failed = { ...(primary ? { primary } : {}), ...(cache ? { redis: cache } : {}) };
    return Object.keys(failed).length === 0
      ? { status: 200, body: { ready: true } }
      : { status: 503, body: { ready: false, failed } };
  };
  const constant = env.EXAMPLE_READINESS === 'constant' || env.EXAMPLE_NAIVE === '1';
  const deepLiveness = env.EXAMPLE_LIVENESS === 'deep';
  return {
    live: async () => (deepLiveness ? dependencies() : { status: 200, body: { live: true } }),
    ready: async () => (constant ? { status: 200, body: { ready: true } } : dependencies()),
    async close() {
      redis?.disconnect();
    },
  };
}
