// "Redis with automatic fallback" and "80 % cache hit rate": the redis-lost and
// cache-effectiveness suites on the reference app (read-through cache with a database
// fallback, writes through the cache), and on its naive variant (no fallback, no
// write-through), which must fail each.
import { describe, expect, test } from 'vitest';
import { redisLost } from './redis-lost.ts';
import { cacheEffectiveness } from './effectiveness.ts';
import { goodAndNaive, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const targets = goodAndNaive(topology);

describe('Redis lost', () => {
  test('the app with a database fallback keeps serving, and its hit rate recovers once Redis is back', async () => {
    const result = await runOn(redisLost, targets.good);
    expect(result.pass, verdictLines(result)).toBe(true);
  });

  test('the naive app, without the fallback, fails while Redis is down, and its requests do not recover in time', async () => {
    const result = await runOn(redisLost, targets.naive);
    expect(verdictOn(result, 'errorsDuringFault').pass, verdictLines(result)).toBe(false);
    expect(verdictOn(result, 'timeToRecoverMs').pass, verdictLines(result)).toBe(false);
  });

  test('right after a killed Redis returns its cache is empty: a 100 % hit-rate budget measured at once fails', async () => {
    const result = await runOn(redisLost, targets.good, {
      settleMs: 0,
      durationMs: 5000,
      budgets: { hitRateAfterReturn: 1 },
    });
    expect(verdictOn(result, 'hitRateAfterReturn').pass, verdictLines(result)).toBe(false);
  });
});

describe('cache effectiveness', () => {
  test('under a Zipf load the hit rate is at least 80 %, and a write is never followed by its old value', async () => {
    const result = await runOn(cacheEffectiveness, targets.good);
    expect(result.pass, verdictLines(result)).toBe(true);
    expect(result.measurements.checks).toBe(10);
  });

  test('the naive app, which leaves the old value cached after a write, is caught serving it', async () => {
    const result = await runOn(cacheEffectiveness, targets.naive);
    const stale = verdictOn(result, 'staleReads');
    expect(stale.pass, verdictLines(result)).toBe(false);
    expect(stale.evidence).toMatch(/returned .* after "cache-check-/);
  });

  test('a hit-rate budget the workload cannot meet fails (uniform reads over 5000 keys)', async () => {
    const result = await runOn(cacheEffectiveness, targets.good, {
      ids: { from: 1, to: 5000, skew: 0 },
      durationMs: 3000,
      checks: 1,
    });
    expect(verdictOn(result, 'hitRate').pass, verdictLines(result)).toBe(false);
  });
});
