import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { atLeast, atMost, judge } from '../../harness/budgets/index.ts';
import { defineSuite, field, LastError, parseRequest, Session, timelineRecord } from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { count, ids, ms, rate, ratio, request } from '../support/options.ts';
import { hitRateBetween, redisHitCounters } from './redis-stats.ts';

/**
 * "80 % cache hit rate, never a stale value": a Zipf-skewed read load (a few hot keys,
 * a long tail, as real traffic is) must hit the cache at least `hitRate` of the time
 * after a warm-up; meanwhile a checker changes values through the app and reads them
 * right back: once the write was answered, no read may return the old value.
 */
export const cacheEffectiveness = defineSuite({
  name: 'cache-effectiveness',
  description: 'under a Zipf read load the hit rate meets its budget, and no read returns a value a write has replaced',
  options: z
    .object({
      read: request('GET /inspections/{id}'),
      /** Changes the value the read returns; `{id}` and `{value}` are filled in. */
      write: request('PUT /inspections/{id}/status'),
      writeBody: z.unknown().default({ status: '{value}' }),
      /** The field of the read's answer that the write changes. */
      field: z.string().min(1).default('status'),
      ids: ids.default({ from: 1, to: 100, skew: 1.1 }),
      rate: rate(100),
      durationMs: ms(5000),
      /** Excluded from the hit rate: the cache starts cold. */
      warmupMs: ms(1000),
      /** Write-then-read checks, spread over the load after the warm-up. */
      checks: z.number().int().min(1).max(1000).default(10),
      readsPerCheck: z.number().int().min(1).max(100).default(3),
      budgets: z
        .object({ hitRate: ratio(0.8), staleReads: count(0) })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: { redis: true },
  async run(context, options) {
    const redis = context.topology.redis!;
    const read = parseRequest(options.read);
    const write = parseRequest(options.write, options.writeBody);
    const lastError = new LastError();
    let staleReads = 0;
    let checks = 0;
    let afterWarmup: { hits: number; misses: number } | undefined;

    const checker = async () => {
      await sleep(options.warmupMs);
      afterWarmup = await redisHitCounters(redis.url);
      const session = new Session(context.app.url);
      const spacing = (options.durationMs - options.warmupMs) / (options.checks + 1);
      for (let i = 0; i < options.checks; i++) {
        await sleep(spacing);
        // The hottest keys: the ones most likely cached, where a missed invalidation shows.
        const id = options.ids.from + (i % Math.min(10, options.ids.to - options.ids.from + 1));
        const value = `cache-check-${Date.now()}-${i}`;
        await session.expectOk(write, { id, value });
        checks++;
        for (let r = 0; r < options.readsPerCheck; r++) {
          const seen = field(await session.expectOk(read, { id }), options.field);
          if (seen !== value) {
            staleReads++;
            lastError.message = `read ${options.read.replace('{id}', String(id))} returned ${JSON.stringify(seen)} after ${JSON.stringify(value)} was written`;
          }
        }
      }
    };
    const load = await startSuiteLoad({
      url: context.app.url,
      rate: options.rate,
      durationMs: options.durationMs,
      requests: [{ spec: read, ids: options.ids }],
      seed: 'cache-effectiveness',
    });
    const [{ timeline }] = await Promise.all([load.start(), checker()]);
    const hitRate = afterWarmup ? hitRateBetween(afterWarmup, await redisHitCounters(redis.url)) : null;
    return {
      verdicts: [
        judge(
          `at least ${Math.round(options.budgets.hitRate * 100)} % of reads are served from the cache`,
          atLeast('hitRate', options.budgets.hitRate, 'ratio', options.read),
          hitRate,
        ),
        judge(
          'no read returns a value a write has replaced',
          atMost('staleReads', options.budgets.staleReads, 'count', `${options.write} → ${options.read}`),
          staleReads,
          lastError.message || undefined,
        ),
      ],
      measurements: {
        requests: timeline.requests,
        errors: timeline.errors,
        hitRate,
        checks,
        staleReads,
        p99Ms: timeline.percentile(99),
      },
      events: [],
      timelines: [
        timelineRecord(
          `${options.read} at ${options.rate}/s, ids Zipf(${options.ids.from}..${options.ids.to}, s=${options.ids.skew})`,
          timeline,
        ),
      ],
      notes: [
        `hit rate from Redis INFO stats after a ${options.warmupMs} ms warm-up; ${options.checks} writes each read back ${options.readsPerCheck} times by the writing session`,
      ],
    };
  },
});
