import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { UsageError } from '../../harness/errors.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { defineSuite, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { count, ids, ms, rate, request } from '../support/options.ts';
import { type ProbeFlips, percentileBetween, probeFlips } from './probe-timeline.ts';

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
    // Every instance probed, as an orchestrator probes each pod: one that lies is found by name.
    const urls = context.app.urls ?? [context.app.url];
    const probe = (url: string, spec: string, seed: string) =>
      startSuiteLoad({
        url,
        rate: probeRate,
        durationMs: options.durationMs,
        timeoutMs: options.probeTimeoutMs,
        bucketMs: 250,
        requests: [{ spec: parseRequest(spec) }],
        seed,
      });
    const loads = await Promise.all([
      ...urls.flatMap((url, i) => [
        probe(url, options.readiness, `health-readiness-${i}`),
        probe(url, options.liveness, `health-liveness-${i}`),
      ]),
      ...(options.load
        ? [
            // Real requests over every instance, as the balancer spreads them: each probed instance is under load.
            startSuiteLoad({
              url: context.app.url,
              ...(urls.length > 1 ? { urls } : {}),
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
    const faultAt = events[0]!.t;
    const healedAt = events[1]!.t;
    const instances = urls.map((url, i) => ({
      name: urls.length > 1 ? `instance ${i + 1} (${url}): ` : '',
      readiness: results[2 * i]!,
      liveness: results[2 * i + 1]!,
    }));
    for (const { name, readiness } of instances) {
      const before = readiness.timeline.samples().filter((s) => s.t < faultAt);
      if (before.length > 0 && before.every((s) => !s.ok))
        throw new UsageError(
          `suite health: ${name}${options.readiness} never answered 2xx before the fault (${before.length} probes; ${readiness.lastError}): set readiness to the app's readiness path`,
        );
    }
    const flipsOf = instances.map((instance) => ({
      ...instance,
      flips: probeFlips(instance.readiness.timeline.samples(), faultAt, healedAt),
    }));
    // The instance that tells the least truth: one that never flips (or never comes back) before the slowest.
    const worstBy = (pick: (f: ProbeFlips) => number | null) =>
      flipsOf.reduce((worst, f) => {
        const [a, b] = [pick(f.flips), pick(worst.flips)];
        return b !== null && (a === null || a > b) ? f : worst;
      });
    const flipWorst = worstBy((f) => f.flipMs);
    const backWorst = worstBy((f) => f.backMs);
    const { flips } = flipWorst;
    const probesBefore = instances.flatMap((i) => [
      ...i.readiness.timeline.samples(),
      ...i.liveness.timeline.samples(),
    ]);
    const p99Ms = percentileBetween(probesBefore, options.warmUpMs, faultAt, 99);
    const livenessFailures = instances.reduce((sum, i) => sum + i.liveness.timeline.errors, 0);
    const livenessFailed = instances.filter((i) => i.liveness.timeline.errors > 0);
    const lost = options.lose === 'primary' ? 'the primary' : 'Redis';
    const loadResult = options.load ? results[2 * urls.length] : undefined;
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
          flipWorst.name +
            (flips.flipMs === null
              ? `readiness answered 2xx to all ${flips.duringFault.probes} probes while ${lost} was unreachable`
              : `first non-2xx ${Math.round(flips.flipMs)} ms after the fault; ${flips.duringFault.ok} of ${flips.duringFault.probes} probes 2xx while it lasted`),
        ),
        judge(
          `readiness is 2xx again within ${options.budgets.readinessBackMs} ms of ${lost} coming back`,
          atMost('readinessBackMs', options.budgets.readinessBackMs, 'ms', options.readiness),
          backWorst.flips.backMs,
          backWorst.flips.backMs === null
            ? `${backWorst.name}still not 2xx at the end; ${backWorst.readiness.lastError}`
            : backWorst.name
              ? `${backWorst.name}2xx for good ${Math.round(backWorst.flips.backMs)} ms after`
              : undefined,
        ),
        judge(
          `liveness stays 2xx while ${lost} is away`,
          atMost('livenessFailures', options.budgets.livenessFailures, 'count', options.liveness),
          livenessFailures,
          livenessFailed.length > 0
            ? livenessFailed.map((i) => `${i.name}last failure: ${i.liveness.lastError}`).join('; ')
            : undefined,
        ),
      ],
      measurements: {
        probeIntervalMs: options.probeIntervalMs,
        p99Ms,
        readinessFlipMs: flips.flipMs,
        readinessBackMs: backWorst.flips.backMs,
        instances: urls.length,
        readinessOkDuringFault: flips.duringFault.ok,
        readinessProbesDuringFault: flips.duringFault.probes,
        livenessFailures,
        loadErrors: loadResult?.timeline.errors ?? null,
      },
      events,
      timelines: instances.flatMap((i) => [
        timelineRecord(`${i.name}${options.readiness} every ${options.probeIntervalMs} ms`, i.readiness.timeline),
        timelineRecord(`${i.name}${options.liveness} every ${options.probeIntervalMs} ms`, i.liveness.timeline),
      ]),
      notes: [
        `probes sent to every instance (${urls.join(', ')}), every ${options.probeIntervalMs} ms each; a verdict names the worst instance: the flip's time is known to that resolution; ${lost}'s link let nothing through from ${Math.round(faultAt)} ms to ${Math.round(healedAt)} ms`,
      ],
    };
  },
});
