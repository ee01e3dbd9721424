// "Users always see their own changes": replicas stop replaying while writes continue.
// The reference app (read-your-writes by a session cookie holding the write's WAL
// position, and no reads from a replica more than 500 ms behind) must keep both
// promises; the naive variant, reading any replica, must break both.
import { expect, test } from 'vitest';
import { replicaLag } from './replica-lag.ts';
import { goodAndNaive, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const targets = goodAndNaive(topology);

// 4 s instead of 6: the lag from 0.5 s for 2.5 s (defaults 1 s, 3 s), then 1 s of catching up.
// A read is stale past 1 s, and the naive app's readers keep reading the value of the lag's
// start for its whole 2.5 s, so its worst staleness reaches ~2.5 s; the writer still
// acknowledges a write every few tens of ms throughout.
const run = { lagAtMs: 500, lagForMs: 2500, durationMs: 4000 };

test('the app that tracks its replicas reads its own writes and serves nothing stale', async () => {
  const result = await runOn(replicaLag, targets.good, run);
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements.writes).toBeGreaterThan(20);
  expect(result.events.map((e) => e.kind)).toEqual(['pause-replay', 'resume-replay']);
});

test('the naive app, reading any replica, violates read-your-writes and serves stale reads', async () => {
  const result = await runOn(replicaLag, targets.naive, run);
  expect(verdictOn(result, 'readYourWritesViolations').pass, verdictLines(result)).toBe(false);
  expect(verdictOn(result, 'staleReads').pass, verdictLines(result)).toBe(false);
  expect(result.measurements.worstStalenessMs).toBeGreaterThan(1000);
});

test("reads that are never answered (every one a 404 here, or a 429 once the app's limiter counts them) prove nothing: both read verdicts fail, measuring nothing", async () => {
  // Before, the writes went on, and 0 violations among 0 answered reads passed the suite.
  const result = await runOn(replicaLag, targets.good, { ...run, read: 'GET /api/no-such-route/{id}' });
  expect(result.pass, verdictLines(result)).toBe(false);
  expect(verdictOn(result, 'writesDuringLag').pass, verdictLines(result)).toBe(true);
  expect(result.measurements).toMatchObject({ readsDuringLag: 0, readYourWritesViolations: null, staleReads: null });
  for (const metric of ['readYourWritesViolations', 'staleReads'])
    expect(verdictOn(result, metric), verdictLines(result)).toMatchObject({
      pass: false,
      measured: null,
      evidence: expect.stringMatching(
        /^no (read of a write|reader's read) was answered while replicas lagged \(\d+ requests failed; last error: GET \/api\/no-such-route\/1: HTTP \d+/,
      ),
    });
});
