// "Rate limiting: 10 requests per second per client, Redis-backed", behind two instances of
// the app: the reference app's limiter counts in Redis and holds; its naive variants each
// fail the verdict they are there for, with counts as the evidence (never timings).
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { connectTopology } from '../../harness/topology/control/index.ts';
import { type ReferenceTarget, runOn, startReferenceTarget } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { rateLimit } from './rate-limit.ts';
import '../../harness/vitest/provided.ts';

const topology = connectTopology(inject('dbproof'));
const variants = {
  good: { name: 'reference app, 2 instances' },
  memory: { name: 'reference app, 2 instances, a count in each', env: { EXAMPLE_RATE_LIMIT_STORE: 'memory' } },
  forwarded: {
    name: 'reference app, 2 instances, trusting X-Forwarded-For',
    env: { EXAMPLE_RATE_LIMIT_TRUST_XFF: 'on' },
  },
  address: { name: 'reference app, 2 instances, by address only', env: { EXAMPLE_RATE_LIMIT_BY: 'address' } },
  unlimited: { name: 'reference app, a limit of 1000', env: { EXAMPLE_RATE_LIMIT: '1000' }, instances: 1 },
  refusing: { name: 'reference app, a limit of 0', env: { EXAMPLE_RATE_LIMIT: '0' }, instances: 1 },
  failClosed: { name: 'reference app, 2 instances, failing closed', env: { EXAMPLE_RATE_LIMIT_FAIL: 'closed' } },
} as const;
const targets = {} as Record<keyof typeof variants, ReferenceTarget>;
beforeAll(async () => {
  const started = await Promise.all(
    Object.entries(variants).map(([key, variant]) =>
      startReferenceTarget(topology, { instances: 2, ...variant, seed: { scale: 0.001, seed: 18 } }).then(
        (target) => [key, target] as const,
      ),
    ),
  );
  Object.assign(targets, Object.fromEntries(started));
}, 180_000);
afterAll(async () => {
  await Promise.all(Object.values(targets).map((target) => target.stop()));
});

describe('rate-limit', () => {
  test('a limiter counting in Redis admits each client at most its limit across both instances, refuses none of the quiet ones, and is not fooled by X-Forwarded-For', async () => {
    const result = await runOn(rateLimit, targets.good);
    expect(result.pass, verdictLines(result)).toBe(true);
    // Exact counts: 2 over clients of 30 per window for 4 windows, each admitted 10 per window.
    expect(result.measurements).toMatchObject({
      instances: 2,
      worstOverAdmitted: 40,
      overshoot: 0,
      collateral: 0,
      bypassAdmitted: 40,
      bypassed: 0,
      errors: 0,
      refusedWithoutRetryAfter: 0,
    });
  });

  test('a count in each instance admits a client the limit once per instance: overshoot 100 %', async () => {
    const result = await runOn(rateLimit, targets.memory);
    const overshoot = verdictOn(result, 'overshoot');
    expect(overshoot.pass, verdictLines(result)).toBe(false);
    expect(overshoot.measured).toBe(1);
    expect(overshoot.evidence).toMatch(/^over\d was admitted 80 in 4 windows \(at most 40\)/);
    expect(verdictOn(result, 'collateral').pass, verdictLines(result)).toBe(true);
  });

  test('trusting X-Forwarded-For from anyone: a client that makes it up on every request is never limited', async () => {
    const result = await runOn(rateLimit, targets.forwarded);
    const bypass = verdictOn(result, 'bypass');
    expect(bypass.pass, verdictLines(result)).toBe(false);
    expect(bypass.measured).toBe(80);
    expect(bypass.evidence).toMatch(/^with a new x-forwarded-for on each request, 120 of 120 were admitted/);
    // Clients with a key are still counted right: the failure is the bypass alone.
    expect(verdictOn(result, 'overshoot').pass, verdictLines(result)).toBe(true);
  });

  test('a limiter keyed by address only refuses the quiet clients with the busy ones: collateral', async () => {
    const result = await runOn(rateLimit, targets.address);
    const collateral = verdictOn(result, 'collateral');
    expect(collateral.pass, verdictLines(result)).toBe(false);
    expect(collateral.measured).toBeGreaterThan(0);
    expect(collateral.evidence).toMatch(/under1 \d+ admitted, [1-9]\d* refused of 20/);
  });

  test('an identity scheme the app does not honour (nothing ever refused) is bad input, in one line', async () => {
    await expect(runOn(rateLimit, targets.unlimited, { windows: 1 })).rejects.toThrow(
      /^rate-limit: the app refused none of the 30 requests per window of over1 \(limit 10\) with 429: GET \/api\/inspections\/\{id\} is not limited per x-api-key/,
    );
  });

  test('an app that refuses every request, even the first of each window, is bad input too', async () => {
    await expect(runOn(rateLimit, targets.refusing, { windows: 1 })).rejects.toThrow(
      /^rate-limit: the app refused every request \(429\), even the first of each window: GET \/api\/inspections\/\{id\} is limited by something other than x-api-key/,
    );
  });

  describe('Redis killed after the windows', () => {
    const short = { windows: 2, clients: { under: 0 }, bypass: false } as const;

    test('a limiter said to fail open admits every request while Redis is down, and Redis is started again', async () => {
      const result = await runOn(rateLimit, targets.good, { ...short, redisDown: { expect: 'open' } });
      expect(result.pass, verdictLines(result)).toBe(true);
      expect(result.measurements).toMatchObject({ redisDownSent: 60, redisDownAdmitted: 60 });
      expect(result.events.map((e) => `${e.kind} ${e.target}`)).toEqual(['kill redis', 'start redis']);
    });

    test('a limiter said to fail closed admits none', async () => {
      const result = await runOn(rateLimit, targets.failClosed, { ...short, redisDown: { expect: 'closed' } });
      expect(result.pass, verdictLines(result)).toBe(true);
      expect(result.measurements).toMatchObject({ redisDownSent: 60, redisDownAdmitted: 0 });
    });

    test('failing open where closed was stated fails, with the admitted count as evidence', async () => {
      const result = await runOn(rateLimit, targets.good, { ...short, redisDown: { expect: 'closed' } });
      const down = verdictOn(result, 'redisDownViolations');
      expect(down.pass, verdictLines(result)).toBe(false);
      expect(down.measured).toBe(60);
      expect(down.evidence).toMatch(/^with Redis killed, 60 of 60 requests were admitted/);
    });

    test('failing closed where open was stated fails: every request refused with 503', async () => {
      const result = await runOn(rateLimit, targets.failClosed, { ...short, redisDown: { expect: 'open' } });
      const down = verdictOn(result, 'redisDownViolations');
      expect(down.pass, verdictLines(result)).toBe(false);
      expect(down.measured).toBe(60);
      expect(down.evidence).toMatch(
        /^with Redis killed, 0 of 60 requests were admitted \(0 answered 429, 60 another status, 0 not at all\); last: GET \/api\/inspections\/\{id\}: HTTP 503/,
      );
    });
  });

  test('the precision is one request: a budget of 0 overshoot holds at exactly the limit, and the note says what one request is', async () => {
    const result = await runOn(rateLimit, targets.good, { windows: 2, clients: { under: 0 }, bypass: false });
    expect(verdictOn(result, 'overshoot').measured).toBe(0);
    expect(result.notes.join('\n')).toMatch(/a 1-request overshoot is 0\.0500 of the limit/);
  });
});
