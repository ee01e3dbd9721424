// "No data loss on failover": the primary is killed under writes, dbproof promotes the
// replica and re-points the writer endpoint. With synchronous replication every
// acknowledged write must be on the new primary; with asynchronous replication and a
// lagging candidate, the same check must report the lost writes by key (the negative
// control). A promotion cannot be undone, so each case starts a topology of its own.
import { afterEach, expect, test } from 'vitest';
import { startTopology } from '../../harness/providers/index.ts';
import type { Topology } from '../../harness/topology/types.ts';
import { runSuite } from '../../harness/suite/index.ts';
import { primaryLost } from './primary-lost.ts';
import { resultsRun, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';

let topology: Topology | undefined;
let target: ReferenceTarget | undefined;

afterEach(async () => {
  await target?.stop();
  await topology?.stop();
  target = topology = undefined;
});

// The kill at 1.5 s and the run over at 6 s (the suite's defaults: 2.5 s and 7 s): the
// candidate still freezes 1 s before the kill (its lag, and the async case's 16 MB of WAL,
// are unchanged), and the run still goes on 4 s after the promotion is due, so writes come
// back inside it. Only a second of the writes before the freeze is gone: 0.5 s of them
// (4 writers, 10 ms apart) is still ~100 acknowledged writes for the check to look up.
const timing = { killAtMs: 1500, durationMs: 6000 };

async function failover(synchronous: boolean, options: object = {}) {
  topology = await startTopology({ replicas: 1, redis: false, synchronous });
  target = await startReferenceTarget(topology, { seed: false, redis: false });
  return runSuite(
    primaryLost,
    target.context,
    { ...timing, ...options },
    {
      target: `${target.name}, ${synchronous ? 'synchronous' : 'asynchronous'} replication`,
      run: await resultsRun(),
    },
  );
}

test('with synchronous replication, no acknowledged write is lost and writes come back within budget', async () => {
  const result = await failover(true);
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements.acknowledgedWrites).toBeGreaterThan(50);
  expect(result.events.map((e) => e.kind)).toEqual(['pause', 'kill', 'promote']);
  expect(result.measurements.lostWrites).toBe(0);
  // Writes were acknowledged after the promotion too: the writer endpoint followed it.
  const promotedAt = result.events[2]!.t + result.events[2]!.durationMs;
  expect(result.timelines[0]!.buckets.some((b) => b.t > promotedAt && b.requests > b.errors)).toBe(true);
});

test('with asynchronous replication and a lagging candidate, the lost writes are reported by key', async () => {
  // 16 MB of WAL while the candidate is frozen: more than the kernel buffers for it, so it truly lags.
  // A 100 ms unavailability budget no failover can meet (freeze, kill, promotion take over a second).
  const result = await failover(false, { candidateLagBytes: 16_000_000, budgets: { writeUnavailableMs: 100 } });
  const lost = verdictOn(result, 'lostWrites');
  expect(lost.pass, verdictLines(result)).toBe(false);
  expect(lost.measured).toBeGreaterThan(0);
  expect(lost.evidence).toMatch(/^lost: w-[0-9a-f]+-\d+-\d+/);
  expect(verdictOn(result, 'writeUnavailableMs').pass).toBe(false);
});
