import { type SeenAnswer, seenAnswers } from '../../harness/http/seen.ts';
import type { RequestSpec } from '../../harness/http/session.ts';
import { siblingModule } from '../../harness/package-files.ts';
import { goLine } from './orphan-guard.ts';
import { startEngineProcess } from './process.ts';
import { ENGINE_MARGIN_MS } from './run.ts';

/**
 * One client of a windowed load: `perWindow` requests in each window, its own headers
 * (an API key, a made-up `X-Forwarded-For`: `{n}` is the request's number from 1, cycling
 * through 254, so a header may differ on every request).
 */
export interface WindowedClient {
  name: string;
  perWindow: number;
  headers: Record<string, string>;
  /** The address its connections come from (a client told apart by its IP address); default the machine's choice. */
  localAddress?: string;
  /** The instance (index into `urls`) every request of its goes to, as a sticky balancer sends; default each in turn. */
  instance?: number;
}

/**
 * Requests counted by window, for claims that are counts (a rate limit's admitted requests
 * per window): every client sends its requests for a window evenly inside the window's
 * middle, the `guard` fraction at each end left quiet, and each request reported with when
 * it was sent and answered: the windows the app may have counted it in. Windows are aligned to the
 * epoch (what a fixed-window limiter counts by), the first starting at least `leadMs` after `start()`.
 */
export interface WindowedLoadRequest {
  /** The app's instances: each client sends to them in turn (round-robin), as a balancer spreads, or to its `instance`. */
  urls: string[];
  request: RequestSpec;
  /** `{id}` in the request: cycles from..to. */
  ids: { from: number; to: number };
  windowMs: number;
  windows: number;
  guard: number;
  clients: WindowedClient[];
  timeoutMs: number;
  leadMs?: number;
  /**
   * Sent, all at once and round-robin over the instances, before the first window is chosen,
   * and not reported: an app's first requests (its pool's connections, its code compiled) and
   * the engine's own took over a second on this kind of machine, and would arrive windows late.
   * Its own headers (an identity of its own, so no client's count is touched).
   */
  warmUp?: { requests: number; headers: Record<string, string> };
}

/**
 * One request of a windowed load as its client saw it, times in ms after the first window's
 * start. The app counted it at some instant between `sentAt` and `doneAt`: in the window it
 * was sent for, or (a busy machine's late arrival) in one after it, up to `doneAt`'s.
 */
export interface WindowedAnswer {
  /** The window it was sent for (0-based). */
  window: number;
  sentAt: number;
  /** When its answer, or its failure, came. */
  doneAt: number;
  /** The answer's HTTP status; 0: not answered (a time-out, a refused connection). */
  status: number;
  /** The answer's Retry-After, as sent. */
  retryAfter?: string;
  /** The IETF draft RateLimit fields, where the answer had them: `RateLimit-Remaining`/`-Reset` (drafts 03–06) or `r=`/`t=` of `RateLimit` (07 on). */
  remaining?: number;
  /** Delta seconds. */
  reset?: number;
}

export interface WindowedLoadReport {
  /** The first window's start (epoch ms). */
  firstWindowAt: number;
  /** Per client (in the request's order), each of its requests in the order sent. */
  answers: WindowedAnswer[][];
  /** The last request that was not answered, or answered other than 2xx/429/503: its message. */
  lastError: string;
  /** One answer of each kind the engine got (see harness/http/seen.ts). */
  seen: SeenAnswer[];
}

const CHILD = siblingModule(import.meta.url, './windowed-load-child');

/** A windowed load in an engine process of its own, loaded and waiting; `start()` sets it off and resolves with its counts. */
export async function startWindowedLoad(
  request: WindowedLoadRequest,
): Promise<{ start(): Promise<WindowedLoadReport> }> {
  const warmUpMs = request.warmUp ? request.timeoutMs : 0;
  const runMs = (request.windows + 2) * request.windowMs + (request.leadMs ?? 200) + warmUpMs + request.timeoutMs;
  const overrun = `the windowed load's engine was still running ${ENGINE_MARGIN_MS / 1000} s after its ${runMs / 1000} s should have ended; it was killed`;
  const engine = startEngineProcess(CHILD, request, { runMs: 600_000, overrun });
  await engine.started;
  return {
    async start() {
      engine.deadline(runMs + ENGINE_MARGIN_MS, overrun);
      engine.send(goLine());
      const report = (await engine.report) as WindowedLoadReport;
      seenAnswers.addAll(report.seen);
      return report;
    },
  };
}
