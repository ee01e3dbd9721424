// "The pool copes with bursts and never leaks": 40 clients against an app with 10
// pooled connections per node, one request in ten failing in the database on purpose.
// The reference app queues and returns every connection; the naive variant forgets to
// release a connection when its query fails, and must fail on errors and on the leak.
import { expect, test } from 'vitest';
import { poolExhaustion } from './pool-exhaustion.ts';
import { goodAndNaive, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const targets = goodAndNaive(topology);

// 3 s of load and 2 s to settle (the suite's defaults: 4 s and 3 s). The app closes an idle
// connection after 1 s (idleTimeoutMillis), so 2 s is twice what the good app's connections
// take to go back to their baseline; a leaked one never goes back, however long. The naive
// app's pool is exhausted within its first second (one leak per failed query, 1 in 10), and
// every request after that waits out its 3 s time-out, in 3 s as in 4.
const run = { durationMs: 3000, settleMs: 2000 };

test('the reference app queues 40 clients on its pool without errors, and its connections return to their baseline', async () => {
  const result = await runOn(poolExhaustion, targets.good, run);
  expect(result.pass, verdictLines(result)).toBe(true);
  // The queueing is real: under load a request waits well beyond its own 40 ms.
  expect(result.measurements.loadedP50Ms!).toBeGreaterThan(result.measurements.unloadedP50Ms!);
});

test('the naive app leaks a connection on each failed query: errors, and connections that never come back', async () => {
  const result = await runOn(poolExhaustion, targets.naive, run);
  expect(verdictOn(result, 'leakedConnections').pass, verdictLines(result)).toBe(false);
  expect(verdictOn(result, 'errors').pass, verdictLines(result)).toBe(false);
  // Its exhausted pool makes requests wait their whole timeout.
  expect(verdictOn(result, 'queueP99Ms').pass, verdictLines(result)).toBe(false);
});
