// The open model's own lateness (issue 13): when the generator itself is held up, the
// buckets say so (sendLateMs), so a reader can tell a slow generator from a slow app.
// The assertions are lower bounds set by a stall the test makes itself: they hold on any
// machine, however busy.
import { expect, test } from 'vitest';
import { runClosedLoad } from '../../load/engines/closed-model.ts';
import { runOpenLoad } from '../../load/engines/open-model.ts';

/** Holds the event loop (the generator's only thread) for `ms`: a generator starved of CPU. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else in this process runs meanwhile
  }
}

test('a generator held up for 300 ms reports sends at least 250 ms late in the bucket after the stall', async () => {
  const sent: number[] = [];
  const timeline = await runOpenLoad({
    rate: 100,
    durationMs: 1000,
    request: async (index) => {
      if (index === 20) block(300); // due at 200 ms: the requests due up to ~500 ms go out late
    },
    onSent: (_due, lateMs) => sent.push(lateMs),
  });
  const buckets = timeline.buckets();
  expect(buckets.every((b) => typeof b.sendLateMs === 'number' && b.sendLateMs >= 0)).toBe(true);
  const stalled = buckets.find((b) => b.t === 300)!;
  expect(stalled.sendLateMs).toBeGreaterThanOrEqual(150);
  expect(Math.max(...sent)).toBeGreaterThanOrEqual(250);
});

test("the lateness is the generator's, not the server's: slow answers do not hold up the sends", async () => {
  const timeline = await runOpenLoad({
    rate: 50,
    durationMs: 600,
    request: () => new Promise((resolve) => setTimeout(resolve, 1000)),
  });
  const buckets = timeline.buckets();
  // Every request took a second, yet the engine sent each one on its schedule, not after the
  // answer before it (the bound is half the answer time: a stall of the whole machine that long
  // would be one the probe sees too).
  expect(buckets.every((b) => b.p50Ms >= 990)).toBe(true);
  expect(Math.max(...buckets.map((b) => b.sendLateMs ?? 0))).toBeLessThan(500);
});

test('the closed model reports its own lateness too: a loop held up for 300 ms shows in the bucket it held', async () => {
  let blocked = false;
  const timeline = await runClosedLoad({
    connections: 2,
    durationMs: 800,
    request: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!blocked && performance.now() > 0) {
        blocked = true;
        block(300); // a response whose next request waits 300 ms for the loop
      }
    },
  });
  const late = timeline.buckets().map((b) => b.sendLateMs ?? 0);
  expect(Math.max(...late)).toBeGreaterThanOrEqual(250);
});
