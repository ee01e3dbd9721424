// "Circuit breaker after N failures": the database becomes unreachable for 5 s. The
// reference app (breaker after 3 failures, 1 s before a trial, 500 ms timeouts) must open
// after 3 slow failures, then fail fast, and close once the database is back; the naive
// variant has no breaker and no timeouts: every request waits, none fails fast.
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { connectTopology } from '../../harness/topology/control/index.ts';
import { runSuite } from '../../harness/suite/index.ts';
import { circuitBreaker } from './circuit-breaker.ts';
import { resultsRun, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import '../../harness/vitest/provided.ts';

const topology = connectTopology(inject('dbproof'));
const env = { EXAMPLE_BREAKER_FAILURES: '3', EXAMPLE_BREAKER_RESET_MS: '1000', EXAMPLE_WRITE_TIMEOUT_MS: '500' };
let good: ReferenceTarget;
let naive: ReferenceTarget;

beforeAll(async () => {
  // Reads from the primary only: each failure costs one timeout, so the count is exact.
  [good, naive] = await Promise.all([startReferenceTarget(topology, { replicas: false, env }), startReferenceTarget(topology, { replicas: false, naive: true, env })]);
}, 120_000);

afterAll(async () => {
  await Promise.all([good?.stop(), naive?.stop()]);
});

test('the breaker opens after 3 failures, then requests fail fast, and it closes once the database is back', async () => {
  const result = await runSuite(circuitBreaker, good.context, { failures: 3 }, { target: good.name, run: await resultsRun() });
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements.failuresBeforeOpen).toBe(3);
});

test('a breaker configured for fewer failures than the app needs fails the count', async () => {
  const result = await runSuite(circuitBreaker, good.context, { failures: 2, durationMs: 4000, faultForMs: 2000 }, { target: good.name, run: await resultsRun() });
  expect(verdictOn(result, 'failuresBeforeOpen').pass, verdictLines(result)).toBe(false);
});

test('the naive app has no breaker: no request fails fast', async () => {
  const result = await runSuite(circuitBreaker, naive.context, { failures: 3 }, { target: naive.name, run: await resultsRun() });
  const opened = verdictOn(result, 'failuresBeforeOpen');
  expect(opened.pass, verdictLines(result)).toBe(false);
  expect(opened.measured).toBeNull();
  expect(opened.evidence).toMatch(/never opened/);
});
