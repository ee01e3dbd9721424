import { z } from 'zod';
import { atLeast, atMost, judge } from '../../harness/budgets/index.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { defineSuite, LastError, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { count, ids, ms, rate, ratio, request } from '../support/options.ts';
import { hitRateBetween, redisHitCounters } from './redis-stats.ts';

/**
 * "Redis with automatic fallback": Redis goes away under a cached read load. The app
 * must keep serving within budget (from memory or the database), and its hit rate must
 * come back once Redis returns (an app that never reconnects serves from the database
 * for ever, and its p99 pays for it later).
 */
export const redisLost = defineSuite({
  name: 'redis-lost',
  description:
    'Redis is killed (or frozen) under a cached read load: the app keeps serving, and its hit rate recovers once Redis is back',
  options: z
    .object({
      read: request('GET /inspections/{id}'),
      ids,
      rate: rate(40),
      durationMs: ms(7000),
      faultAtMs: ms(1000),
      downForMs: ms(3000),
      /** `kill`: the process dies (and its data with it); `pause`: it freezes, connections open. */
      fault: z.enum(['kill', 'pause']).default('kill'),
      /** The hit rate is measured from this long after Redis returns to the end of the load. */
      settleMs: ms(1000),
      bucketMs: z.number().int().min(10).max(5000).default(250),
      budgets: z
        .object({ errors: count(1), timeToRecoverMs: ms(2000), p99Ms: ms(1000), hitRateAfterReturn: ratio(0.5) })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: { redis: true },
  async run(context, options) {
    const redis = context.topology.redis!;
    const read = parseRequest(options.read);
    const [down, up] =
      options.fault === 'kill'
        ? [() => redis.kill(), () => redis.start()]
        : [() => redis.pause(), () => redis.resume()];
    let afterReturn: { hits: number; misses: number } | undefined;
    const lastError = new LastError();
    const returnAt = options.faultAtMs + options.downForMs;
    const load = await startSuiteLoad({
      url: context.app.url,
      rate: options.rate,
      durationMs: options.durationMs,
      bucketMs: options.bucketMs,
      requests: [{ spec: read, ids: options.ids }],
      seed: 'redis-lost',
    });
    const schedule = runSchedule([
      { at: options.faultAtMs, kind: options.fault, target: 'redis', apply: down },
      { at: returnAt, kind: options.fault === 'kill' ? 'start' : 'resume', target: 'redis', apply: up },
      {
        at: returnAt + options.settleMs,
        kind: 'measure',
        target: 'cache',
        apply: async () => (afterReturn = await redisHitCounters(redis.url)),
      },
    ]);
    // A load that fails (its engine crashed or overran) must not leave its faults running unwatched.
    const { timeline, lastError: last } = await load.start().catch(async (error) => {
      schedule.cancel();
      await schedule.done;
      throw error;
    });
    lastError.message = last;
    const events = await schedule.done;
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`could not ${failed.kind} ${failed.target}: ${failed.error}`);
    const hitRateAfterReturn = afterReturn ? hitRateBetween(afterReturn, await redisHitCounters(redis.url)) : null;
    const impact = timeline.impactOf(events[0]!.t, options.budgets.p99Ms);
    const evidence = lastError.evidence;
    return {
      verdicts: [
        judge(
          'the app keeps serving while Redis is down',
          atMost('errorsDuringFault', options.budgets.errors, 'count', options.read),
          impact.errorsDuringFault,
          evidence,
        ),
        judge(
          `requests recover within ${options.budgets.timeToRecoverMs} ms of losing Redis`,
          atMost('timeToRecoverMs', options.budgets.timeToRecoverMs, 'ms', options.read),
          impact.timeToRecoverMs,
          evidence,
        ),
        judge(
          'the hit rate comes back once Redis returns',
          atLeast('hitRateAfterReturn', options.budgets.hitRateAfterReturn, 'ratio', options.read),
          hitRateAfterReturn,
        ),
      ],
      measurements: {
        requests: timeline.requests,
        errorsDuringFault: impact.errorsDuringFault,
        timeToRecoverMs: impact.timeToRecoverMs,
        worstP99Ms: impact.worstP99Ms,
        firstImpactMs: impact.firstImpactMs,
        hitRateAfterReturn,
      },
      events,
      timelines: [
        timelineRecord(
          `${options.read} at ${options.rate}/s, ids Zipf(${options.ids.from}..${options.ids.to})`,
          timeline,
        ),
      ],
      notes: [
        'hit rate from Redis INFO stats (keyspace_hits / (keyspace_hits + keyspace_misses)) between the measure event and the end of the load',
      ],
    };
  },
});
