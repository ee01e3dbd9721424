import { Timeline } from '../timeline.ts';

export interface ClosedLoadOptions {
  /** Clients, each sending its next request as soon as the previous one is answered. */
  connections: number;
  durationMs: number;
  /** One request by client `client`; resolves when answered, rejects when it failed. */
  request: (client: number) => Promise<void>;
  bucketMs?: number;
}

/**
 * Closed model: a fixed number of clients in a loop. Throughput adapts to the server,
 * so a closed model measures what each client waited, not what arriving users would
 * (a stalled server also stalls the arrivals: use the open model for tails).
 */
export async function runClosedLoad(options: ClosedLoadOptions): Promise<Timeline> {
  const timeline = new Timeline(options.bucketMs);
  const started = performance.now();
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
  return timeline;
}
