// The open model on a fixed set of connections (wrk2's design, issue 14), driven by a fake
// `send` so each property is exact: which connection sends what, that a connection never has
// two requests in flight, that a request due while its connection is busy is timed from its
// due time, and what happens at the time-out and at the load's deadline. Assertions are lower
// bounds and counts: a busy machine can only make requests later, never earlier.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { runConnectionSchedule } from '../../load/engines/connection-schedule.ts';

/**
 * Fake connections: `answer(connection, index)` resolves whether the request was answered as
 * expected; an abort (time-out, deadline) makes it fail at once, as a closed socket does.
 */
function fake(answer: (connection: number, index: number) => Promise<boolean>) {
  const aborts = new Map<number, () => void>();
  return {
    send(connection: number, index: number, done: (ok: boolean) => void) {
      let settled = false;
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        aborts.delete(connection);
        done(ok);
      };
      aborts.set(connection, () => finish(false));
      answer(connection, index).then(finish, () => finish(false));
    },
    abort: (connection: number) => aborts.get(connection)?.(),
  };
}

interface Result {
  index: number;
  due: number;
  latencyMs: number;
  ok: boolean;
}

test('request i goes to connection i mod C, and a connection never has two requests in flight', async () => {
  const byConnection = new Map<number, number[]>();
  const inFlight = new Set<number>();
  let overlap = false;
  const results: Result[] = [];
  const outcome = await runConnectionSchedule({
    rate: 200,
    durationMs: 500,
    connections: 4,
    timeoutMs: 1000,
    ...fake(async (connection, index) => {
      if (inFlight.has(connection)) overlap = true;
      inFlight.add(connection);
      byConnection.set(connection, [...(byConnection.get(connection) ?? []), index]);
      await sleep(2);
      inFlight.delete(connection);
      return true;
    }),
    onResult: (index, due, latencyMs, ok) => results.push({ index, due, latencyMs, ok }),
  });
  expect(outcome).toMatchObject({ sent: 100, unsent: 0 });
  expect(results).toHaveLength(100);
  expect(overlap).toBe(false);
  for (const [connection, indices] of byConnection) {
    expect(indices.every((i) => i % 4 === connection)).toBe(true);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
  }
  expect(results.every((r) => r.ok && r.due === r.index * 5)).toBe(true);
});

test('a request due while its connection is busy waits, and its latency counts from its due time', async () => {
  const results: Result[] = [];
  const outcome = await runConnectionSchedule({
    rate: 100,
    durationMs: 300,
    connections: 1,
    timeoutMs: 2000,
    // The first answer takes 200 ms: requests 1…19, due every 10 ms meanwhile, queue behind it.
    ...fake(async (_connection, index) => {
      await sleep(index === 0 ? 200 : 1);
      return true;
    }),
    onResult: (index, due, latencyMs, ok) => results.push({ index, due, latencyMs, ok }),
  });
  expect(outcome.sent).toBe(30);
  expect(outcome.waited).toBeGreaterThanOrEqual(15);
  const tenth = results.find((r) => r.index === 10)!;
  // Due at 100 ms, sent only after the first answer (≥ 200 ms): it waited at least 100 ms.
  expect(tenth.due).toBe(100);
  expect(tenth.latencyMs).toBeGreaterThanOrEqual(100);
});

test('a request not answered within the time-out is aborted and fails; the connection goes on', async () => {
  const results: Result[] = [];
  await runConnectionSchedule({
    rate: 20,
    durationMs: 500,
    connections: 1,
    timeoutMs: 100,
    // The first request is never answered: only its time-out ends it.
    ...fake((_connection, index) => (index === 0 ? new Promise<boolean>(() => {}) : Promise.resolve(true))),
    onResult: (index, due, latencyMs, ok) => results.push({ index, due, latencyMs, ok }),
  });
  const first = results.find((r) => r.index === 0)!;
  expect(first.ok).toBe(false);
  expect(first.latencyMs).toBeGreaterThanOrEqual(100);
  expect(results.filter((r) => r.index > 0).every((r) => r.ok)).toBe(true);
  expect(results).toHaveLength(10);
});

test('requests still waiting for their connection at the deadline are never sent, counted, and fail', async () => {
  const results: Result[] = [];
  // Each answer would take 250 ms; the time-out is 100 ms, so each connection sends one request
  // per time-out at most. How many are sent by the deadline (200 ms of load and one time-out)
  // depends on the machine's speed; what is checked does not: every request is reported once,
  // sent or unsent, and each unsent one at the deadline. 40 due on 2 connections leave some
  // unsent unless the process stalled for seconds.
  const outcome = await runConnectionSchedule({
    rate: 200,
    durationMs: 200,
    connections: 2,
    timeoutMs: 100,
    ...fake(async () => {
      await sleep(250);
      return true;
    }),
    onResult: (index, due, latencyMs, ok) => results.push({ index, due, latencyMs, ok }),
  });
  expect(outcome.sent + outcome.unsent).toBe(40);
  expect(results).toHaveLength(40);
  expect(new Set(results.map((r) => r.index)).size).toBe(40);
  expect(outcome.unsent).toBeGreaterThan(0);
  // Every request failed: timed out, aborted at the deadline, or never sent.
  expect(results.every((r) => !r.ok)).toBe(true);
  // The unsent were reported at the deadline (300 ms): each waited from its due time to then.
  const late = results.filter((r) => r.due + r.latencyMs >= 300 - 1e-6); // a float sum
  expect(late.length).toBeGreaterThanOrEqual(outcome.unsent);
});

test('an engine that takes a request up late says so (onDue), apart from any wait for a connection', async () => {
  const late: number[] = [];
  await runConnectionSchedule({
    rate: 100,
    durationMs: 600,
    connections: 10,
    timeoutMs: 1000,
    ...fake(async (_connection, index) => {
      if (index === 10) {
        const until = performance.now() + 200;
        while (performance.now() < until) {
          // the engine's loop held for 200 ms: the requests due meanwhile are taken up late
        }
      }
      return true;
    }),
    onDue: (_due, lateMs) => late.push(lateMs),
    onResult: () => {},
  });
  expect(Math.max(...late)).toBeGreaterThanOrEqual(150);
});
