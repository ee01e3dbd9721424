import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { runSchedule, type FaultEvent } from '../../harness/faults/index.ts';
import {
  LastError,
  parseRequest,
  timelineRecord,
  type SuiteContext,
  type SuiteOutcome,
} from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { count, ms, rate, replicaNumber, request } from '../support/options.ts';

/** The options of the replica-lost and replica-frozen suites. */
export const readsUnderFaultOptions = z
  .object({
    /** The read the app serves from its replicas. */
    read: request('GET /inspections-joined?limit=5'),
    /** Which replica the fault hits (1-based). */
    replica: replicaNumber,
    /** Requests per second, open model: due on schedule whatever the app does. */
    rate: rate(40),
    durationMs: ms(7000),
    faultAtMs: ms(1000),
    /** Longer than the recovery budget plus the p99 budget, so that a request waiting out the whole fault breaks the check. */
    faultForMs: ms(4000),
    bucketMs: z.number().int().min(10).max(5000).default(250),
    budgets: z
      .object({
        /** Failed requests from the fault on. */
        errors: count(1),
        /** From the fault until errors stay at 0 and every bucket's p99 within `p99Ms`. */
        timeToRecoverMs: ms(2000),
        p99Ms: ms(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ReadsUnderFaultOptions = z.output<typeof readsUnderFaultOptions>;

/** A steady read load while `fault` is applied to a replica and `undo`ne later: errors, time to recover, exact first impact. */
export async function readsUnderFault(
  context: SuiteContext,
  options: ReadsUnderFaultOptions,
  fault: { kind: string; undoKind: string; apply(): Promise<unknown>; undo(): Promise<unknown> },
): Promise<SuiteOutcome & { lastError: string }> {
  const target = `replica${options.replica}`;
  const read = parseRequest(options.read);
  const lastError = new LastError();
  context.progress?.(
    `${options.read} at ${options.rate}/s for ${options.durationMs} ms; ${fault.kind} ${target} at ${options.faultAtMs} ms for ${options.faultForMs} ms`,
  );
  const load = await startSuiteLoad({
    url: context.app.url,
    rate: options.rate,
    durationMs: options.durationMs,
    bucketMs: options.bucketMs,
    requests: [{ spec: read }],
    seed: 'reads-under-fault',
  });
  const schedule = runSchedule([
    { at: options.faultAtMs, kind: fault.kind, target, apply: fault.apply },
    { at: options.faultAtMs + options.faultForMs, kind: fault.undoKind, target, apply: fault.undo },
  ]);
  // A load that fails (its engine crashed or overran) must not leave its faults running unwatched.
  const { timeline, lastError: last } = await load.start().catch(async (error) => {
    schedule.cancel();
    await schedule.done;
    throw error;
  });
  lastError.message = last;
  const events: FaultEvent[] = await schedule.done;
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`could not ${failed.kind} ${failed.target}: ${failed.error}`);
  const impact = timeline.impactOf(events[0]!.t, options.budgets.p99Ms);
  const scope = options.read;
  const evidence = lastError.evidence;
  return {
    lastError: lastError.message,
    verdicts: [
      judge(
        `reads keep working while ${target} is ${fault.kind === 'kill' ? 'lost' : 'frozen'}`,
        atMost('errorsDuringFault', options.budgets.errors, 'count', scope),
        impact.errorsDuringFault,
        evidence,
      ),
      judge(
        `reads recover within ${options.budgets.timeToRecoverMs} ms of ${fault.kind} ${target}`,
        atMost('timeToRecoverMs', options.budgets.timeToRecoverMs, 'ms', scope),
        impact.timeToRecoverMs,
        evidence ?? `worst p99 in a ${options.bucketMs} ms bucket: ${impact.worstP99Ms} ms`,
      ),
    ],
    measurements: {
      requests: timeline.requests,
      errors: timeline.errors,
      errorsDuringFault: impact.errorsDuringFault,
      timeToRecoverMs: impact.timeToRecoverMs,
      worstP99Ms: impact.worstP99Ms,
      firstImpactMs: impact.firstImpactMs,
      lastImpactMs: impact.lastImpactMs,
      p99Ms: timeline.percentile(99),
    },
    events,
    timelines: [timelineRecord(`${options.read} at ${options.rate}/s`, timeline)],
    notes: [
      `time to recover is measured on ${options.bucketMs} ms buckets (precise to one bucket); firstImpactMs and lastImpactMs come from each request's own times (precise to ~1 ms plus the gap between requests, ${Math.round(1000 / options.rate)} ms)`,
    ],
  };
}
