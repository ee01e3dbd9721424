import { setTimeout as sleep } from 'node:timers/promises';
import { Timeline } from '../timeline.ts';
import { sampleLoopLag } from './loop-lag.ts';

export interface ClosedLoadOptions {
  /** Clients, each sending its next request as soon as the previous one is answered. */
  connections: number;
  durationMs: number;
  /** One request by client `client`; resolves when answered, rejects when it failed. */
  request: (client: number) => Promise<void>;
  bucketMs?: number;
  /** The start, a `performance.now()` value (default: now); a start still ahead is waited for. */
  origin?: number;
  /** Keep every sample in the returned timeline (default true). */
  keepSamples?: boolean;
}

/**
 * Closed model: a fixed number of clients in a loop. Throughput adapts to the server,
 * so a closed model measures what each client waited, not what arriving users would
 * (a stalled server also stalls the arrivals: use the open model for tails).
 */
export async function runClosedLoad(options: ClosedLoadOptions): Promise<Timeline> {
  const timeline = new Timeline(options.bucketMs, { keepSamples: options.keepSamples ?? true });
  const started = options.origin ?? performance.now();
  const wait = started - performance.now();
  if (wait > 0) await sleep(wait);
  // The engine's own lateness: how long a response waits for the loop to send the next request.
  const stopLag = sampleLoopLag(started, (t, lateMs) => timeline.sentLate(t, lateMs));
  const client = async (index: number) => {
    while (performance.now() - started < options.durationMs) {
      const sent = performance.now() - started;
      try {
        await options.request(index);
        timeline.record(sent, performance.now() - started - sent, true);
      } catch {
        timeline.record(sent, performance.now() - started - sent, false);
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, i) => client(i)));
  stopLag();
  return timeline;
}
