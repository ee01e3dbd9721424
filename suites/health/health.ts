import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { UsageError } from '../../harness/errors.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { defineSuite, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { count, ids, ms, rate, request } from '../support/options.ts';
import { percentileBetween, probeFlips } from './probe-timeline.ts';

/**
 * "Health checks that tell the truth": the liveness and readiness probes asked as an
 * orchestrator asks them (every `probeIntervalMs`) beside a load of real requests, while
 * the app's link to a dependency (the primary or Redis) lets nothing through and then
 * heals. Readiness must turn non-2xx soon after and 2xx again soon after the heal;
 * liveness must stay 2xx throughout (a liveness that fails restarts healthy instances).
 */
export const health = defineSuite({
  name: 'health',
  description:
    'liveness and readiness probes under load while a dependency is lost and comes back: probes fast, readiness flips and returns in time, liveness stays 2xx',
  options: z
    .object({
      liveness: request('GET /live'),
      readiness: request('GET /ready'),
      /** How often each probe is asked: the resolution of the flip's time. */
      probeIntervalMs: z.number().int().min(10).max(10_000).default(50),
      /** A probe not answered in this time counts as failed. */
      probeTimeoutMs: ms(2000),
      /** Real requests beside the probes (false: none). */
      load: z
        .union([
          z.literal(false),
          z.object({ request: request('GET /inspections/{id}'), ids, rate: rate(40) }).strict(),
        ])
        .default({ request: 'GET /inspections/{id}', ids: { from: 1, to: 20, skew: 1.1 }, rate: 40 }),
      /** The dependency whose link goes silent (every byte dropped, connections left open). */
      lose: z.enum(['primary', 'redis']).default('primary'),
      durationMs: ms(9000),
      /** The probes' p99 is measured from here to the fault: the app's and the engines' first second is their start, not their speed. */
      warmUpMs: ms(1000),
      faultAtMs: ms(3000),
      downForMs: ms(3000),
      budgets: z
        .object({
          /** The probes' p99 before the fault, under the load. */
          p99Ms: ms(50),
          /** From losing the dependency to readiness answering non-2xx. */
          readinessFlipMs: ms(2000),
          /** From the heal to readiness answering 2xx for good. */
          readinessBackMs: ms(3000),
          /** Liveness answers other than 2xx, at any time. */
          livenessFailures: count(0),
        })
        .strict()
        .prefault({}),
    })
    .strict()
    .refine((o) => o.faultAtMs + o.downForMs < o.durationMs, {
      message: 'faultAtMs + downForMs must end before durationMs: readiness is watched coming back',
    })
    .refine((o) => o.warmUpMs < o.faultAtMs, {
      message: 'warmUpMs must end before faultAtMs: the p99 is measured between them',
    }),
  requires: {},
  async run(context, options) {
    const link = options.lose === 'primary' ? context.links.writer : context.links.redis;
    if (!link) throw new UsageError('suite health: lose: redis needs Redis in the topology (set topology.redis: true)');
    const probeRate = 1000 / options.probeIntervalMs;
    const probe = (spec: string, seed: string) =>
      startSuiteLoad({
        url: context.app.url,
        rate: probeRate,
        durationMs: options.durationMs,
        timeoutMs: options.probeTimeoutMs,
        bucketMs: 250,
        requests: [{ spec: parseRequest(spec) }],
        seed,
      });
    const loads = await Promise.all([
      probe(options.readiness, 'health-readiness'),
      probe(options.liveness, 'health-liveness'),
      ...(options.load
        ? [
            startSuiteLoad({
              url: context.app.url,
              rate: options.load.rate,
              durationMs: options.durationMs,
              bucketMs: 250,
              requests: [{ spec: parseRequest(options.load.request), ids: options.load.ids }],
              seed: 'health-load',
            }),
          ]
        : []),
    ]);
    const returnAt = options.faultAtMs + options.downForMs;
    const silence = async () => {
      link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'downstream', name: 'health-down' });
      link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'upstream', name: 'health-up' });
      await link.proxy.settled();
    };
    const heal = async () => {
      link.proxy.reset();
      await link.proxy.settled();
    };
    const schedule = runSchedule([
      { at: options.faultAtMs, kind: 'blackhole', target: options.lose, apply: silence },
      { at: returnAt, kind: 'heal', target: options.lose, apply: heal },
    ]);
    const results = await Promise.all(loads.map((load) => load.start())).catch(async (error) => {
      schedule.cancel();
      await schedule.done;
      await heal();
      throw error;
    });
    const events = await schedule.done;
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`could not ${failed.kind} ${failed.target}: ${failed.error}`);
    const [readiness, liveness] = results as [(typeof results)[number], (typeof results)[number]];
    const faultAt = events[0]!.t;
    const healedAt = events[1]!.t;
    const readySamples = readiness.timeline.samples();
    const before = readySamples.filter((s) => s.t < faultAt);
    if (before.length > 0 && before.every((s) => !s.ok))
      throw new UsageError(
        `suite health: ${options.readiness} never answered 2xx before the fault (${before.length} probes; ${readiness.lastError}): set readiness to the app's readiness path`,
      );
    const flips = probeFlips(readySamples, faultAt, healedAt);
    const probesBefore = [...readySamples, ...liveness.timeline.samples()];
    const p99Ms = percentileBetween(probesBefore, options.warmUpMs, faultAt, 99);
    const livenessFailures = liveness.timeline.errors;
    const lost = options.lose === 'primary' ? 'the primary' : 'Redis';
    return {
      verdicts: [
        judge(
          `the probes answer within ${options.budgets.p99Ms} ms (p99) under load`,
          atMost('p99Ms', options.budgets.p99Ms, 'ms', `${options.readiness}, ${options.liveness}`),
          p99Ms,
          `${probesBefore.filter((s) => s.t >= options.warmUpMs && s.t + s.latencyMs < faultAt).length} probes from ${options.warmUpMs} ms to the fault`,
        ),
        judge(
          `readiness turns non-2xx within ${options.budgets.readinessFlipMs} ms of losing ${lost}`,
          atMost('readinessFlipMs', options.budgets.readinessFlipMs, 'ms', options.readiness),
          flips.flipMs,
          flips.flipMs === null
            ? `readiness answered 2xx to all ${flips.duringFault.probes} probes while ${lost} was unreachable`
            : `first non-2xx ${Math.round(flips.flipMs)} ms after the fault; ${flips.duringFault.ok} of ${flips.duringFault.probes} probes 2xx while it lasted`,
        ),
        judge(
          `readiness is 2xx again within ${options.budgets.readinessBackMs} ms of ${lost} coming back`,
          atMost('readinessBackMs', options.budgets.readinessBackMs, 'ms', options.readiness),
          flips.backMs,
          flips.backMs === null ? `still not 2xx at the end; ${readiness.lastError}` : undefined,
        ),
        judge(
          `liveness stays 2xx while ${lost} is away`,
          atMost('livenessFailures', options.budgets.livenessFailures, 'count', options.liveness),
          livenessFailures,
          liveness.lastError ? `last failure: ${liveness.lastError}` : undefined,
        ),
      ],
      measurements: {
        probeIntervalMs: options.probeIntervalMs,
        p99Ms,
        readinessFlipMs: flips.flipMs,
        readinessBackMs: flips.backMs,
        readinessOkDuringFault: flips.duringFault.ok,
        readinessProbesDuringFault: flips.duringFault.probes,
        livenessFailures,
        loadErrors: results[2]?.timeline.errors ?? null,
      },
      events,
      timelines: [
        timelineRecord(`${options.readiness} every ${options.probeIntervalMs} ms`, readiness.timeline),
        timelineRecord(`${options.liveness} every ${options.probeIntervalMs} ms`, liveness.timeline),
      ],
      notes: [
        `probes sent to one instance (${context.app.url}), every ${options.probeIntervalMs} ms each: the flip's time is known to that resolution; ${lost}'s link let nothing through from ${Math.round(faultAt)} ms to ${Math.round(healedAt)} ms`,
      ],
    };
  },
});
