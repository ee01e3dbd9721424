import { type SeenAnswer, seenAnswers } from '../../harness/http/seen.ts';
import { InfrastructureError } from '../../harness/errors.ts';
import { siblingModule } from '../../harness/package-files.ts';
import type { RequestSpec } from '../../harness/http/session.ts';
import type { IdRange } from '../../harness/random/index.ts';
import { Timeline } from '../timeline.ts';
import { goLine } from './orphan-guard.ts';
import { startEngineProcess } from './process.ts';
import { ENGINE_MARGIN_MS } from './run.ts';

/** What a suite's load sends: one entry is drawn per request, by weight (seeded). */
export interface SuiteLoadEntry {
  spec: RequestSpec;
  /** Relative weight in the mix (default 1). */
  weight?: number;
  /** Statuses that count as answered; default any 2xx. */
  expect?: number[];
  /** `{id}` in the path and body, drawn per request from this range (uniform unless a Zipf `skew` is given). */
  ids?: Omit<IdRange, 'skew'> & { skew?: number };
  /** `{key}` in the path and body: this prefix and a number counting from 0, a new key per request. */
  keyPrefix?: string;
}

/** A suite's load: the open model (`rate`) or the closed model (`connections`), run in an engine process. */
export interface SuiteLoadRequest {
  /** The app's URL. */
  url: string;
  /**
   * Every instance of the app (`SuiteContext.app.urls`), when the load is to be spread over
   * them as a round-robin balancer would (open model: each request to the next instance;
   * closed model: client c to instance c mod N). `url` alone otherwise.
   */
  urls?: string[];
  /** Open model: requests per second, due on schedule whatever the app does; one cookie session. */
  rate?: number;
  /** Closed model: clients each sending its next request once the last is answered; a cookie session each. */
  connections?: number;
  durationMs: number;
  bucketMs?: number;
  /** A request not answered in this time fails (default 10 s). */
  timeoutMs?: number;
  requests: SuiteLoadEntry[];
  /** Names the seeded draws (the mix's and the ids'), so a suite replays the same sequence. */
  seed: string;
}

/** What the load saw: every request in a timeline (samples kept), and the last failure's message ('' when none failed). */
export interface SuiteLoadResult {
  timeline: Timeline;
  lastError: string;
}

/** What the engine process reports: the timeline's parts, compactly. */
export interface SuiteLoadReport {
  bucketMs: number;
  /** `[due t, latency, 1 ok | 0 failed]` per request, in the order they finished. */
  samples: [number, number, 0 | 1][];
  /** Requests the load recorded: more than `samples` when it outgrew the samples a timeline keeps. */
  requests: number;
  /** `[bucket start, the engine's worst lateness in it]`. */
  late: [number, number][];
  lastError: string;
  /** One answer of each kind the engine got (see harness/http/seen.ts). */
  seen: SeenAnswer[];
}

/** A suite's load in its engine process, loaded and waiting for `start`. */
export interface SuiteLoad {
  /** Starts the load now (its time 0 is this call; start a fault schedule beside it) and resolves when it has ended. */
  start(): Promise<SuiteLoadResult>;
}

const CHILD = siblingModule(import.meta.url, './suite-load-child');

/**
 * Loads a suite's load into an engine process of its own (issue 13): its requests are
 * timed there, so a busy dbproof (a fault schedule, the sampling of pg_stat_activity) never
 * becomes the app's latency. Resolves once the engine is ready; `start` sets it off.
 */
export async function startSuiteLoad(request: SuiteLoadRequest): Promise<SuiteLoad> {
  if (!request.rate === !request.connections) throw new RangeError('a suite load has a rate or connections, not both');
  const timeoutMs = request.timeoutMs ?? 10_000;
  const overrun = `the suite's load engine was still running ${ENGINE_MARGIN_MS / 1000} s after its ${request.durationMs / 1000} s load (and ${timeoutMs / 1000} s time-out) should have ended; it was killed`;
  // Until `start`, the engine waits: the deadline is re-armed there.
  const engine = startEngineProcess(CHILD, request, { runMs: 600_000, overrun });
  await engine.started;
  return {
    async start() {
      engine.deadline(request.durationMs + timeoutMs + ENGINE_MARGIN_MS, overrun);
      // An instant both processes read alike (the monotonic clock): the engine's time 0.
      engine.send(goLine());
      const report = (await engine.report) as SuiteLoadReport;
      seenAnswers.addAll(report.seen);
      // The timeline is rebuilt from the samples: a load beyond the samples kept would be cut silently.
      if (report.requests > report.samples.length)
        throw new InfrastructureError(
          `the suite's load sent ${report.requests} requests, more than the ${report.samples.length} a suite's load keeps; lower its rate or duration`,
        );
      const timeline = new Timeline(report.bucketMs);
      for (const [t, latencyMs, ok] of report.samples) timeline.record(t, latencyMs, ok === 1);
      for (const [t, lateMs] of report.late) timeline.sentLate(t, lateMs);
      return { timeline, lastError: report.lastError };
    },
  };
}
