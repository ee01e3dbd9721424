// "Redis with automatic fallback" and "80 % cache hit rate": the redis-lost and
// cache-effectiveness suites on the reference app (read-through cache with a database
// fallback, writes through the cache), and on its naive variant (no fallback, no
// write-through), which must fail each.
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { connectTopology } from '../../harness/topology/control/index.ts';
import { runSuite } from '../../harness/suite/index.ts';
import { redisLost } from './redis-lost.ts';
import { cacheEffectiveness } from './effectiveness.ts';
import { resultsRun, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import '../../harness/vitest/provided.ts';

const topology = connectTopology(inject('dbproof'));
let good: ReferenceTarget;
let naive: ReferenceTarget;

beforeAll(async () => {
  [good, naive] = await Promise.all([startReferenceTarget(topology), startReferenceTarget(topology, { naive: true })]);
}, 120_000);

afterAll(async () => {
  await Promise.all([good?.stop(), naive?.stop()]);
});

describe('Redis lost', () => {
  test('the app with a database fallback keeps serving, and its hit rate recovers once Redis is back', async () => {
    const result = await runSuite(redisLost, good.context, {}, { target: good.name, run: await resultsRun() });
    expect(result.pass, verdictLines(result)).toBe(true);
  });

  test('the naive app, without the fallback, fails while Redis is down', async () => {
    const result = await runSuite(redisLost, naive.context, {}, { target: naive.name, run: await resultsRun() });
    expect(verdictOn(result, 'errorsDuringFault').pass, verdictLines(result)).toBe(false);
  });
});

describe('cache effectiveness', () => {
  test('under a Zipf load the hit rate is at least 80 %, and a write is never followed by its old value', async () => {
    const result = await runSuite(cacheEffectiveness, good.context, {}, { target: good.name, run: await resultsRun() });
    expect(result.pass, verdictLines(result)).toBe(true);
    expect(result.measurements.checks).toBe(10);
  });

  test('the naive app, which leaves the old value cached after a write, is caught serving it', async () => {
    const result = await runSuite(cacheEffectiveness, naive.context, {}, { target: naive.name, run: await resultsRun() });
    const stale = verdictOn(result, 'staleReads');
    expect(stale.pass, verdictLines(result)).toBe(false);
    expect(stale.evidence).toMatch(/returned .* after "cache-check-/);
  });

  test('a hit-rate budget the workload cannot meet fails (uniform reads over 5000 keys)', async () => {
    const result = await runSuite(cacheEffectiveness, good.context, { ids: { from: 1, to: 5000, skew: 0 }, durationMs: 3000, checks: 1 }, { target: good.name, run: await resultsRun() });
    expect(verdictOn(result, 'hitRate').pass, verdictLines(result)).toBe(false);
  });
});
