import { setTimeout as sleep } from 'node:timers/promises';
import { Timeline } from '../timeline.ts';

export interface OpenLoadOptions {
  /** Requests per second, started on schedule whatever the server does. */
  rate: number;
  durationMs: number;
  /** The `index`-th request; resolves when answered, rejects when it failed. */
  request: (index: number) => Promise<void>;
  /** Each request as it is sent, `lateMs` after its due time (the engine's own lateness, issue 13). */
  onSent?: (due: number, lateMs: number) => void;
  /** Each result as it is recorded: `due` and latency in ms (from the due time). */
  onResult?: (index: number, due: number, latencyMs: number, ok: boolean) => void;
  /** Keep every sample in the returned timeline (default true; a plain load does without). */
  keepSamples?: boolean;
  /** Requests in flight at most; beyond it a due request counts as an error (the client is saturated). */
  maxInFlight?: number;
  bucketMs?: number;
  /** The start, a `performance.now()` value (default: now): the first request is due then. */
  origin?: number;
}

/**
 * Open model: requests are due at fixed intervals, and each one's latency is measured
 * from the time it was due, not from when it was sent. A server that stalls cannot
 * hide the stall by slowing the client down (coordinated omission): every request due
 * during the stall carries the wait in its latency.
 */
export async function runOpenLoad(options: OpenLoadOptions): Promise<Timeline> {
  const timeline = new Timeline(options.bucketMs, { keepSamples: options.keepSamples ?? true });
  const record = (index: number, due: number, latencyMs: number, ok: boolean) => {
    timeline.record(due, latencyMs, ok);
    options.onResult?.(index, due, latencyMs, ok);
  };
  const interval = 1000 / options.rate;
  const total = Math.floor((options.durationMs / 1000) * options.rate);
  const maxInFlight = options.maxInFlight ?? 1000;
  const started = options.origin ?? performance.now();
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = i * interval;
    const wait = due - (performance.now() - started);
    if (wait > 1) await sleep(wait);
    const lateMs = Math.max(0, performance.now() - started - due);
    timeline.sentLate(due, lateMs);
    options.onSent?.(due, lateMs);
    if (inFlight >= maxInFlight) {
      record(i, due, performance.now() - started - due, false);
      continue;
    }
    inFlight++;
    const index = i;
    pending.push(
      options
        .request(index)
        .then(
          () => record(index, due, performance.now() - started - due, true),
          () => record(index, due, performance.now() - started - due, false),
        )
        .finally(() => inFlight--),
    );
  }
  await Promise.all(pending);
  return timeline;
}
