// "Redis with automatic fallback": the reference app keeps serving while Redis is
// killed (reads fall back to the database), and its hit rate comes back once Redis
// returns. The same app without the fallback must fail (the negative control).
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { runSchedule } from '../../harness/faults/index.ts';
import { connectTopology } from '../../harness/topology/control/index.ts';
import { inspections, Rng, zipf } from '../../fixtures/index.ts';
import { seedPrivateDatabase, type PrivateDatabase } from '../../harness/vitest/private-database.ts';
import { startExampleApp } from '../../example/launch.ts';
import { runOpenLoad } from '../../load/engines/open-model.ts';
import { faultImpact } from '../../load/timeline.ts';
import '../../harness/vitest/provided.ts';

const BUDGET = { timeToRecoverMs: 2000, maxErrors: 1, p99Ms: 1000, hitRateAfterReturn: 0.5 };
const topology = connectTopology(inject('dbproof'));
type App = { url: string; stop(): Promise<void> };
let database: PrivateDatabase;
let withFallback: App;
let withoutFallback: App;

beforeAll(async () => {
  database = await seedPrivateDatabase(topology, inspections, { scale: 0.002, seed: 5 });
  const env = { DATABASE_URL: database.url, REDIS_URL: topology.redis!.url };
  [withFallback, withoutFallback] = await Promise.all([startExampleApp(env), startExampleApp({ ...env, EXAMPLE_CACHE_FALLBACK: 'off' })]);
}, 120_000);

afterAll(async () => {
  await Promise.all([withFallback?.stop(), withoutFallback?.stop()]);
  await database?.drop();
});

const stats = async (app: App) => (await (await fetch(`${app.url}/cache-stats`)).json()) as { hits: number; misses: number };

/** 40 requests/s for 7 s over 20 hot inspections (Zipf); Redis killed at 1 s, back at 4 s. */
async function redisLostFor3s(app: App) {
  const redis = topology.redis!;
  const rng = new Rng(7, 'redis-loss');
  const ids = zipf(1, 20, 1.1);
  let afterReturn: { hits: number; misses: number } | undefined;
  const schedule = runSchedule([
    { at: 1000, kind: 'kill', target: 'redis', apply: () => redis.kill() },
    { at: 4000, kind: 'start', target: 'redis', apply: () => redis.start() },
    { at: 5000, kind: 'measure', target: 'cache', apply: async () => (afterReturn = await stats(app)) },
  ]);
  const timeline = await runOpenLoad({
    rate: 40,
    durationMs: 7000,
    bucketMs: 250,
    request: async () => {
      const response = await fetch(`${app.url}/inspections/${ids.sample(rng)}`, { signal: AbortSignal.timeout(10_000) });
      await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    },
  });
  const events = await schedule.done;
  expect(events.every((e) => e.error === undefined)).toBe(true);
  const end = await stats(app);
  const hitRateAfterReturn = (end.hits - afterReturn!.hits) / (end.hits - afterReturn!.hits + end.misses - afterReturn!.misses);
  return { ...faultImpact(timeline.buckets(), events[0]!.t, BUDGET.p99Ms, 250), hitRateAfterReturn };
}

describe('Redis lost (kill)', () => {
  test('the app with a database fallback keeps serving, and its hit rate recovers once Redis is back', async () => {
    const impact = await redisLostFor3s(withFallback);
    expect(impact.errorsDuringFault, JSON.stringify(impact)).toBeLessThanOrEqual(BUDGET.maxErrors);
    expect(impact.timeToRecoverMs, JSON.stringify(impact)).not.toBeNull();
    expect(impact.timeToRecoverMs!).toBeLessThanOrEqual(BUDGET.timeToRecoverMs);
    expect(impact.hitRateAfterReturn, JSON.stringify(impact)).toBeGreaterThanOrEqual(BUDGET.hitRateAfterReturn);
  });

  test('the app without the fallback fails while Redis is down', async () => {
    const impact = await redisLostFor3s(withoutFallback);
    expect(impact.errorsDuringFault).toBeGreaterThan(BUDGET.maxErrors);
  });
});
