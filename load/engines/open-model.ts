import { Timeline } from '../timeline.ts';

export interface OpenLoadOptions {
  /** Requests per second, started on schedule whatever the server does. */
  rate: number;
  durationMs: number;
  /** One request; resolves when answered, rejects when it failed. */
  request: () => Promise<void>;
  /** Requests in flight at most; beyond it a due request counts as an error (the client is saturated). */
  maxInFlight?: number;
  bucketMs?: number;
}

/**
 * Open model: requests are due at fixed intervals, and each one's latency is measured
 * from the time it was due, not from when it was sent. A server that stalls cannot
 * hide the stall by slowing the client down (coordinated omission): every request due
 * during the stall carries the wait in its latency.
 */
export async function runOpenLoad(options: OpenLoadOptions): Promise<Timeline> {
  const timeline = new Timeline(options.bucketMs);
  const interval = 1000 / options.rate;
  const total = Math.floor((options.durationMs / 1000) * options.rate);
  const maxInFlight = options.maxInFlight ?? 1000;
  const started = performance.now();
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = i * interval;
    const wait = due - (performance.now() - started);
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= maxInFlight) {
      timeline.record(due, performance.now() - started - due, false);
      continue;
    }
    inFlight++;
    pending.push(
      options.request().then(
        () => timeline.record(due, performance.now() - started - due, true),
        () => timeline.record(due, performance.now() - started - due, false),
      ).finally(() => inFlight--),
    );
  }
  await Promise.all(pending);
  return timeline;
}
