// "Circuit breaker after N failures": the database becomes unreachable for 5 s. The
// reference app (breaker after 3 failures, 1 s before a trial, 500 ms timeouts) must open
// after 3 slow failures, then fail fast, and close once the database is back; the naive
// variant has no breaker and no timeouts: every request waits, none fails fast.
import { expect, inject, test } from 'vitest';
import { connectTopology } from '../../harness/topology/control/index.ts';
import { circuitBreaker } from './circuit-breaker.ts';
import { goodAndNaive, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import '../../harness/vitest/provided.ts';

const topology = connectTopology(inject('dbproof'));
const env = { EXAMPLE_BREAKER_FAILURES: '3', EXAMPLE_BREAKER_RESET_MS: '1000', EXAMPLE_WRITE_TIMEOUT_MS: '500' };
// Reads from the primary only: each failure costs one timeout, so the count is exact.
const targets = goodAndNaive(topology, { replicas: false, env });

test('the breaker opens after 3 failures, then requests fail fast, and it closes once the database is back', async () => {
  const result = await runOn(circuitBreaker, targets.good, { failures: 3 });
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements.failuresBeforeOpen).toBe(3);
});

test('budgets the app cannot meet fail: fewer failures than it needs to open, a close in 0 ms', async () => {
  const result = await runOn(circuitBreaker, targets.good, {
    failures: 2,
    durationMs: 4000,
    faultForMs: 2000,
    budgets: { closesWithinMs: 0 },
  });
  expect(verdictOn(result, 'failuresBeforeOpen').pass, verdictLines(result)).toBe(false);
  expect(verdictOn(result, 'timeToCloseMs').pass, verdictLines(result)).toBe(false);
});

test('the naive app has no breaker: no request fails fast', async () => {
  const result = await runOn(circuitBreaker, targets.naive, { failures: 3 });
  const opened = verdictOn(result, 'failuresBeforeOpen');
  expect(opened.pass, verdictLines(result)).toBe(false);
  expect(opened.measured).toBeNull();
  expect(opened.evidence).toMatch(/never opened/);
  expect(verdictOn(result, 'failFastShare')).toMatchObject({ pass: false, measured: null });
});
