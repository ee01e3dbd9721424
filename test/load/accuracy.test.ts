// A stalled server cannot hide its stall from the open model. The server answers in well
// under a millisecond, but its whole process is frozen for 1 s every 5 s. Requests due
// during a freeze wait until it ends, so with a share f of the time frozen for S ms, the
// true latency exceeds x with probability f·(1 − x/S): p99 = S·(1 − 0.01/f),
// p95 = S·(1 − 0.05/f), max = S. The open model must report them within 10 %; a closed
// model (autocannon, 10 connections) of the same server under-reports the tail, because
// while the server is frozen only its 10 connections are waiting.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { queueTruth, stallPeriodically, stallTruth, startInstantServer } from '../support/instant.ts';
import { runEngine } from '../../load/engines/run.ts';
import { summarise, type LoadSummary } from '../../load/summary.ts';

const STALL_MS = 1000;
const PERIOD_MS = 5000;
const DURATION_MS = 10_000;
let server: ChildProcess;
let url: string;

beforeAll(async () => {
  ({ url, process: server } = await startInstantServer());
});

afterAll(() => {
  server.kill('SIGCONT');
  server.kill('SIGTERM');
});

/** Freezes the server for STALL_MS at 2 s and every PERIOD_MS after, while `load` runs; returns the stalls as applied. */
async function withStalls(load: () => Promise<LoadSummary>): Promise<{ summary: LoadSummary; stalls: number[] }> {
  const stalling = stallPeriodically(server, { periodMs: PERIOD_MS, stallMs: STALL_MS, untilMs: DURATION_MS });
  // The engine's process takes a moment to start: its clock starts a little after ours, so
  // the stalls fall inside its run either way.
  const summary = await load();
  return { summary, stalls: stalling.stop() };
}

// At 200 requests/s and at 5,000 (issue 14: the engine on a fixed set of connections, wrk2's
// design, keeps its accuracy when each connection carries many requests queued behind a stall).
// At 5,000/s a 1 s stall leaves 5,000 requests the server takes ~150 ms to work off, a real
// part of their latency: the truth is then a FIFO queue of the server's measured capacity
// (`queueTruth`), which at 200/s is the instant-catch-up formula to within a millisecond.
test.each([200, 5000])(
  'the open model at %i requests/s reports p95, p99 and max of a stalling server within 10 % of the true values',
  async (rate) => {
    const capacity = summarise(await runEngine({ url, connections: 50, durationMs: 2000 }), { connections: 50 }).rps;
    const { summary, stalls } = await withStalls(async () =>
      summarise(await runEngine({ url, rate, durationMs: DURATION_MS }), { rate }),
    );
    expect(stalls).toHaveLength(2);
    const truth = queueTruth(
      rate,
      DURATION_MS,
      capacity,
      stalls.map((ms, i) => ({ at: 2000 + i * PERIOD_MS, ms })),
    );
    const report = JSON.stringify({
      rate,
      capacity,
      truth,
      instant: stallTruth(stalls, DURATION_MS),
      measured: summary.latencyMs,
    });
    if (process.env.DBPROOF_PRINT_FIGURES) console.log(report);
    expect(summary.errors, report).toBe(0);
    expect(summary.requests).toBe((rate * DURATION_MS) / 1000); // every due request was sent and counted
    expect(Math.abs(summary.latencyMs.p95 - truth.p95) / truth.p95, report).toBeLessThan(0.1);
    expect(Math.abs(summary.latencyMs.p99 - truth.p99) / truth.p99, report).toBeLessThan(0.1);
    expect(Math.abs(summary.latencyMs.max - truth.max) / truth.max, report).toBeLessThan(0.1);
  },
);

test('a closed model of the same server (autocannon, 10 connections) under-reports the tail', async () => {
  const { summary, stalls } = await withStalls(async () =>
    summarise(await runEngine({ url, connections: 10, durationMs: DURATION_MS }), { connections: 10 }),
  );
  expect(stalls).toHaveLength(2);
  const { p99: truthP99, max: stall } = stallTruth(stalls, DURATION_MS);
  // It did see the stall (its slowest request waited it out) but the tail is hidden among thousands of quick answers.
  expect(summary.latencyMs.max).toBeGreaterThan(stall * 0.5);
  if (process.env.DBPROOF_PRINT_FIGURES)
    console.log(JSON.stringify({ truthP99, measured: summary.latencyMs, requests: summary.requests }));
  expect(summary.latencyMs.p99, JSON.stringify(summary.latencyMs)).toBeLessThan(truthP99 / 5);
});
