import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { defineSuite, parseRequest, Session, timelineRecord } from '../../harness/suite/index.ts';
import { Timeline } from '../../load/timeline.ts';
import { ms, request } from '../support/options.ts';

/**
 * "Circuit breaker after 5 failures": the database becomes unreachable (every link to a
 * Postgres node black-holed, so each attempt costs the app its full timeout, or every
 * node's link reset). One client sends requests one after another, so the count is
 * exact: the first `failures` requests fail slowly, then the breaker opens and requests
 * fail fast; once the database is back, the breaker closes and requests succeed.
 */
export const circuitBreaker = defineSuite({
  name: 'circuit-breaker',
  description:
    'the database becomes unreachable: the breaker opens after the configured failures, requests fail fast, and it closes after recovery',
  options: z
    .object({
      request: request('GET /inspections-joined?limit=5'),
      /** The app's configured failure count: the breaker must open after at most this many. */
      failures: z.number().int().min(1).max(1000).default(5),
      /** `blackhole`: nothing answers (the app waits its timeouts); `reset`: every connection is cut at once. */
      fault: z.enum(['blackhole', 'reset']).default('blackhole'),
      faultAtMs: ms(1000),
      faultForMs: ms(5000),
      durationMs: ms(9000),
      thinkMs: ms(20),
      /** A request not answered in this time counts as a (slow) failure. */
      requestTimeoutMs: ms(3000),
      budgets: z
        .object({
          /** A failure faster than this is a fast failure (the breaker answered, not the database). */
          failFastMs: ms(100),
          /** The share of failures after the breaker opened that must be fast (half-open trials are slow). */
          failFastShare: z.number().min(0).max(1).default(0.8),
          /** From the database's return to the first success. */
          closesWithinMs: ms(3000),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: {},
  async run(context, options) {
    const pgLinks = [context.links.writer, ...context.links.replicas];
    const spec = parseRequest(options.request);
    const session = new Session(context.app.url, options.requestTimeoutMs);
    const apply = async () => {
      for (const link of pgLinks) {
        if (options.fault === 'blackhole') {
          link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'downstream', name: 'breaker-down' });
          link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'upstream', name: 'breaker-up' });
        } else {
          link.proxy.addToxic({ type: 'reset_peer', timeout: 0, name: 'breaker-reset' });
        }
      }
    };
    const heal = async () => {
      for (const link of pgLinks) link.proxy.reset();
    };
    const schedule = runSchedule([
      { at: options.faultAtMs, kind: options.fault, target: 'every postgres link', apply },
      { at: options.faultAtMs + options.faultForMs, kind: 'heal', target: 'every postgres link', apply: heal },
    ]);
    const timeline = new Timeline(250);
    const samples: { at: number; ms: number; ok: boolean }[] = [];
    const started = performance.now();
    const now = () => performance.now() - started;
    let lastError = '';
    try {
      while (now() < options.durationMs) {
        const at = now();
        const ok = await session.expectOk(spec).then(
          () => true,
          (error: Error) => {
            lastError = error.message;
            return false;
          },
        );
        samples.push({ at, ms: now() - at, ok });
        timeline.record(at, now() - at, ok);
        await sleep(options.thinkMs);
      }
    } finally {
      schedule.cancel();
      await heal();
    }
    const events = await schedule.done;
    const faultAt = events[0]?.t ?? options.faultAtMs;
    const healAt = events[1]?.t ?? options.faultAtMs + options.faultForMs;

    // A request in flight when the fault began fails because of it too: counted by when it ended.
    const duringFault = samples.filter((s) => s.at + s.ms >= faultAt && s.at < healAt && !s.ok);
    const firstFast = duringFault.findIndex((s) => s.ms < options.budgets.failFastMs);
    const failuresBeforeOpen = firstFast === -1 ? null : firstFast;
    const afterOpen = firstFast === -1 ? [] : duringFault.slice(firstFast);
    const fastShare = afterOpen.length
      ? afterOpen.filter((s) => s.ms < options.budgets.failFastMs).length / afterOpen.length
      : null;
    const fastLatencies = afterOpen
      .filter((s) => s.ms < options.budgets.failFastMs)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    const firstSuccess = samples.find((s) => s.at >= healAt && s.ok);
    const timeToCloseMs = firstSuccess ? firstSuccess.at + firstSuccess.ms - healAt : null;
    return {
      verdicts: [
        judge(
          `the breaker opens after at most ${options.failures} failures`,
          atMost('failuresBeforeOpen', options.failures, 'count', options.request),
          failuresBeforeOpen,
          failuresBeforeOpen === null
            ? `no failure faster than ${options.budgets.failFastMs} ms in ${duringFault.length} failures: the breaker never opened${lastError ? ` (last error: ${lastError})` : ''}`
            : undefined,
        ),
        judge(
          `once open, requests fail in under ${options.budgets.failFastMs} ms`,
          {
            metric: 'failFastShare',
            op: '>=',
            limit: options.budgets.failFastShare,
            unit: 'ratio',
            scope: options.request,
          },
          fastShare,
        ),
        judge(
          `the breaker closes within ${options.budgets.closesWithinMs} ms of the database's return`,
          atMost('timeToCloseMs', options.budgets.closesWithinMs, 'ms', options.request),
          timeToCloseMs,
        ),
      ],
      measurements: {
        requests: samples.length,
        failuresDuringFault: duringFault.length,
        failuresBeforeOpen,
        failFastShare: fastShare,
        failFastP50Ms: fastLatencies.length ? fastLatencies[Math.floor(fastLatencies.length / 2)]! : null,
        slowestFailureMs: duringFault.reduce((worst, s) => Math.max(worst, s.ms), 0) || null,
        timeToCloseMs,
      },
      events,
      timelines: [timelineRecord(`one client, ${options.request}`, timeline)],
      notes: [
        'one client, one request at a time: the failures before the first fast failure are exactly the failures the breaker needed to open',
      ],
    };
  },
});
