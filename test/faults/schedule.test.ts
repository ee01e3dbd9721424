import { expect, test } from 'vitest';
import { startTopology } from '../../harness/index.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { queryRows } from '../../harness/pg/client.ts';

test('faults apply in order, each at or after its time, and every one is recorded', async () => {
  const topology = await startTopology({ replicas: 1, redis: false });
  try {
    const replica = topology.replicas[0]!;
    const schedule = runSchedule([
      { at: 400, kind: 'start', target: 'replica1', apply: () => replica.start() },
      { at: 100, kind: 'kill', target: 'replica1', apply: () => replica.kill() },
      { at: 250, kind: 'kill', target: 'replica1', apply: () => replica.kill() }, // already dead: recorded as an error, the schedule goes on
    ]);
    const events = await schedule.done;
    expect(events.map((e) => [e.kind, e.error === undefined])).toEqual([
      ['kill', true],
      ['kill', false],
      ['start', true],
    ]);
    expect(events[0]!.t).toBeGreaterThanOrEqual(100);
    expect(events[1]!.t).toBeGreaterThanOrEqual(250);
    expect(events[2]!.t).toBeGreaterThanOrEqual(400);
    expect(events[1]!.error).toMatch(/not running/);
    expect(await queryRows(replica.url, 'SELECT pg_is_in_recovery() AS standby')).toEqual([{ standby: true }]);
  } finally {
    await topology.stop();
  }
});

test('cancel() stops the faults not applied yet', async () => {
  let applied = 0;
  const schedule = runSchedule([
    { at: 0, kind: 'noop', target: 'x', apply: async () => applied++ },
    { at: 10_000, kind: 'noop', target: 'x', apply: async () => applied++ },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  schedule.cancel();
  expect(await schedule.done).toHaveLength(1);
  expect(applied).toBe(1);
});
