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
}

/**
 * Requests counted by window, for claims that are counts (a rate limit's admitted requests
 * per window): every client sends its requests for a window evenly inside the window's
 * middle, the `guard` fraction at each end left quiet, so a request is counted in the
 * window it was sent for even when it takes a while to arrive. Windows are aligned to the
 * epoch (what a fixed-window limiter counts by), the first starting at least `leadMs` after `start()`.
 */
export interface WindowedLoadRequest {
  /** The app's instances: each client sends to them in turn (round-robin), as a balancer spreads. */
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
}

/** What one client's requests of one window came to. */
export interface WindowCount {
  sent: number;
  /** Answered 2xx. */
  admitted: number;
  /** Answered 429. */
  limited: number;
  /** Answered 503 (what a limiter that cannot count and fails closed answers). */
  unavailable: number;
  /** Answered with any other status. */
  other: number;
  /** Not answered (time-out, connection refused). */
  failed: number;
  /** Answered after the window they were sent for had ended. */
  late: number;
  /** 429s without a Retry-After header. */
  limitedWithoutRetryAfter: number;
  /** 429s whose Retry-After named a time before the window's end: a client that obeys is refused again. */
  retryTooEarly: number;
  /** 429s whose Retry-After, counted from when the request was sent, named a time more than a window (and a second, its rounding) after the window's end. */
  retryTooLate: number;
}

export interface WindowedLoadReport {
  /** The first window's start (epoch ms). */
  firstWindowAt: number;
  /** Per client (in the request's order), per window. */
  counts: WindowCount[][];
  /** Per client, when its last answer came (epoch ms; 0: none): after the last window, the app may have counted requests in windows beyond it. */
  lastAnswerAt: number[];
  /** The last request that was not answered, or answered other than 2xx/429: its message. */
  lastError: string;
}

const CHILD = siblingModule(import.meta.url, './windowed-load-child');

/** A windowed load in an engine process of its own, loaded and waiting; `start()` sets it off and resolves with its counts. */
export async function startWindowedLoad(
  request: WindowedLoadRequest,
): Promise<{ start(): Promise<WindowedLoadReport> }> {
  const runMs = (request.windows + 2) * request.windowMs + (request.leadMs ?? 200) + request.timeoutMs;
  const overrun = `the windowed load's engine was still running ${ENGINE_MARGIN_MS / 1000} s after its ${runMs / 1000} s should have ended; it was killed`;
  const engine = startEngineProcess(CHILD, request, { runMs: 600_000, overrun });
  await engine.started;
  return {
    async start() {
      engine.deadline(runMs + ENGINE_MARGIN_MS, overrun);
      engine.send(goLine());
      return (await engine.report) as WindowedLoadReport;
    },
  };
}
