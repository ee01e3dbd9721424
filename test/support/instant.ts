import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./instant-server.ts', import.meta.url));

/** Starts the sub-millisecond HTTP server (instant-server.ts) as its own process. */
export async function startInstantServer(): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    child.stdout!.once('data', (chunk) => resolve(String(chunk).trim())),
  );
  return { url, process: child };
}

/** A server frozen (SIGSTOP) for `stallMs` at `firstAtMs` and every `periodMs` after, until `untilMs`. */
export interface PeriodicStalls {
  /** Ends the stalls (the server left running) and returns each stall's length as applied, ms. */
  stop(): number[];
}

export function stallPeriodically(
  server: ChildProcess,
  {
    firstAtMs = 2000,
    periodMs,
    stallMs,
    untilMs,
  }: { firstAtMs?: number; periodMs: number; stallMs: number; untilMs: number },
): PeriodicStalls {
  const stalls: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let at = firstAtMs; at + stallMs < untilMs; at += periodMs)
    timers.push(
      setTimeout(() => {
        const stoppedAt = performance.now();
        server.kill('SIGSTOP');
        timers.push(
          setTimeout(() => {
            server.kill('SIGCONT');
            stalls.push(performance.now() - stoppedAt);
          }, stallMs),
        );
      }, at),
    );
  return {
    stop() {
      for (const timer of timers) clearTimeout(timer);
      server.kill('SIGCONT');
      return stalls;
    },
  };
}

/**
 * The true latency figures of a server that answers at once but was frozen for `stalls` in
 * `durationMs`: requests due during a freeze wait until it ends, so with a share f of the
 * time frozen for S ms, the latency exceeds x with probability f·(1 − x/S).
 */
export function stallTruth(stalls: readonly number[], durationMs: number): { p95: number; p99: number; max: number } {
  const stall = stalls.reduce((a, b) => a + b, 0) / Math.max(1, stalls.length);
  const share = (stall * stalls.length) / durationMs;
  return { p95: stall * (1 - 0.05 / share), p99: stall * (1 - 0.01 / share), max: stall };
}

/**
 * The true latency figures of a FIFO server of `capacity` requests/s, sent `rate` requests/s
 * for `durationMs` and frozen for `stalls` (start and length, ms): each request waits for the
 * server to be free and unfrozen, then takes 1/capacity. At a high rate a stall leaves a
 * backlog the server takes time to work off, which is part of every latency behind it: the
 * instant-catch-up formula of `stallTruth` holds only where that backlog is small.
 */
export function queueTruth(
  rate: number,
  durationMs: number,
  capacity: number,
  stalls: readonly { at: number; ms: number }[],
): { p95: number; p99: number; max: number } {
  const service = 1000 / capacity;
  const latencies: number[] = [];
  let free = 0;
  for (let i = 0; i < Math.floor((rate * durationMs) / 1000); i++) {
    const due = (i * 1000) / rate;
    let start = Math.max(due, free);
    for (const stall of stalls) if (start >= stall.at && start < stall.at + stall.ms) start = stall.at + stall.ms;
    free = start + service;
    latencies.push(free - due);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)]!;
  return { p95: at(0.95), p99: at(0.99), max: latencies.at(-1)! };
}
