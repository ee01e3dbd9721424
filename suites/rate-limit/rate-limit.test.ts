// "Rate limiting: 10 requests per second per client, Redis-backed", behind two instances of
// the app: the reference app's limiter counts in Redis and holds; its naive variants each
// fail the verdict they are there for, with counts as the evidence (never timings).
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { runSuite } from '../../harness/suite/index.ts';
import { referenceTargets, resultsRun, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { rateLimit } from './rate-limit.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
// Two instances each unless said otherwise; each its own small database.
const variant = (options: Parameters<typeof referenceTargets>[1][string]) => ({
  instances: 2,
  seed: { scale: 0.001, seed: 18 },
  ...options,
});
const targets = referenceTargets(topology, {
  good: variant({ name: 'reference app, 2 instances' }),
  memory: variant({ name: 'reference app, 2 instances, a count in each', env: { EXAMPLE_RATE_LIMIT_STORE: 'memory' } }),
  forwarded: variant({
    name: 'reference app, 2 instances, trusting X-Forwarded-For',
    env: { EXAMPLE_RATE_LIMIT_TRUST_XFF: 'on' },
  }),
  address: variant({ name: 'reference app, 2 instances, by address only', env: { EXAMPLE_RATE_LIMIT_BY: 'address' } }),
  unlimited: variant({ name: 'reference app, a limit of 1000', env: { EXAMPLE_RATE_LIMIT: '1000' }, instances: 1 }),
  refusing: variant({ name: 'reference app, a limit of 0', env: { EXAMPLE_RATE_LIMIT: '0' }, instances: 1 }),
  failClosed: variant({
    name: 'reference app, 2 instances, failing closed',
    env: { EXAMPLE_RATE_LIMIT_FAIL: 'closed' },
  }),
  keyOnly: variant({
    name: 'reference app, by API key only',
    env: { EXAMPLE_RATE_LIMIT_BY: 'key-only' },
    instances: 1,
  }),
  retryNow: variant({
    name: 'reference app, Retry-After rounded down, RateLimit-Remaining one above',
    env: { EXAMPLE_RATE_LIMIT_RETRY_AFTER: 'floor', EXAMPLE_RATE_LIMIT_REMAINING: 'off-by-one' },
    instances: 1,
  }),
});

describe('rate-limit', () => {
  test('a limiter counting in Redis admits each client at most its limit across both instances, refuses none of the quiet ones, and is not fooled by X-Forwarded-For', async () => {
    const result = await runOn(rateLimit, targets.good);
    expect(result.pass, verdictLines(result)).toBe(true);
    // 2 over clients of 30 per window for 4 windows, each admitted its 10 per window (and no more).
    expect(result.measurements).toMatchObject({
      instances: 2,
      requests: 400,
      overshoot: 0,
      collateral: 0,
      bypassed: 0,
      refusedWithoutRetryAfter: 0,
    });
    expect(result.measurements.worstOverAdmitted).toBeGreaterThanOrEqual(40);
    expect(verdictOn(result, 'retryAfter').measured).toBe(0);
    expect(verdictOn(result, 'rateLimitHeaders').measured).toBe(0);
  });

  test('a count in each instance holds behind a balancer sticky on the API key: every client reaches one instance', async () => {
    const { memory } = targets;
    const sticky = {
      ...memory,
      context: { ...memory.context, app: { ...memory.context.app, spread: { byHeader: 'x-api-key' } } },
    };
    const result = await runOn(rateLimit, sticky, { windows: 2 });
    expect(result.pass, verdictLines(result)).toBe(true);
    expect(result.measurements).toMatchObject({ overshoot: 0, collateral: 0, bypassed: 0, rateLimitHeadersWrong: 0 });
    expect(result.notes.join('\n')).toMatch(/over 2 instance\(s\) sticky by x-api-key/);
  });

  describe('clients told apart by IP address (each from its own 127.0.0.x)', () => {
    const byIp = { windows: 2, identity: { by: 'ip' } } as const;

    test('a limiter keyed by address holds them apart, and a made-up X-Forwarded-For is still one client', async () => {
      const result = await runOn(rateLimit, targets.address, byIp);
      expect(result.pass, verdictLines(result)).toBe(true);
      expect(result.measurements).toMatchObject({ overshoot: 0, collateral: 0, bypassed: 0 });
    });

    test('a limiter keyed by an API key the clients do not send counts them as one: collateral, named', async () => {
      const result = await runOn(rateLimit, targets.keyOnly, byIp);
      const collateral = verdictOn(result, 'collateral');
      expect(collateral.pass, verdictLines(result)).toBe(false);
      expect(collateral.evidence).toMatch(
        /all 5 clients together were admitted at most 10 a window, one client's limit: the app counts them as one client, not apart by source address/,
      );
    });
  });

  test('wrong headers: a Retry-After rounded down says to come back before the window resets, a RateLimit-Remaining one above says all remain after the first', async () => {
    const result = await runOn(rateLimit, targets.retryNow, { windows: 2, clients: { under: 0 }, bypass: false });
    const retry = verdictOn(result, 'retryAfter');
    expect(retry.pass, verdictLines(result)).toBe(false);
    // 2 over clients, 30 a window, 10 admitted: about 80 refused in 2 windows, each told "0".
    expect(retry.measured).toBeGreaterThanOrEqual(40);
    expect(retry.evidence).toMatch(/^\d+ of \d+ 429s: 0 without Retry-After/);
    const fields = verdictOn(result, 'rateLimitHeaders');
    expect(fields.pass, verdictLines(result)).toBe(false);
    // Each window each over client's first answer says 10 remain after it was counted itself.
    expect(fields.measured).toBeGreaterThanOrEqual(1);
    expect(fields.evidence).toMatch(
      /^\d+ of \d+ answers misstated what followed \(0 without a remaining count\); the worst, over\d: [1-9]/,
    );
    expect(verdictOn(result, 'overshoot').pass, verdictLines(result)).toBe(true);
  });

  test('a count in each instance admits a client the limit once per instance: overshoot 100 %', async () => {
    const result = await runOn(rateLimit, targets.memory);
    const overshoot = verdictOn(result, 'overshoot');
    expect(overshoot.pass, verdictLines(result)).toBe(false);
    // Each instance admits its own 10 a window: 80 of 120, 40 above the limit (100 %), on a
    // quiet machine; a busy machine's late answers may have been counted in a window after
    // theirs, which lowers the excess that can be proven, never to nothing.
    expect(overshoot.measured).toBeGreaterThanOrEqual(0.5);
    expect(overshoot.evidence).toMatch(/^over\d was admitted \d+ in 4 windows, at least \d+ above 10 a window/);
    expect(result.measurements.worstOverAdmitted).toBeGreaterThanOrEqual(60);
    expect(verdictOn(result, 'collateral').pass, verdictLines(result)).toBe(true);
  });

  test('trusting X-Forwarded-For from anyone: a client that makes it up on every request is never limited', async () => {
    const result = await runOn(rateLimit, targets.forwarded);
    const bypass = verdictOn(result, 'bypass');
    expect(bypass.pass, verdictLines(result)).toBe(false);
    expect(bypass.measured).toBeGreaterThanOrEqual(60);
    expect(bypass.evidence).toMatch(/^with a new x-forwarded-for on each request, 1[0-2]\d of 120 were admitted/);
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

  test('an app that answers no request with a 2xx or a 429 (every one a 404 here) passes no verdict: nothing was measured', async () => {
    const result = await runOn(rateLimit, targets.unlimited, { windows: 1, request: 'GET /api/no-such-route/{id}' });
    expect(result.verdicts.length).toBeGreaterThan(0);
    for (const verdict of result.verdicts) {
      expect(verdict.pass, verdictLines(result)).toBe(false);
      expect(verdict.measured).toBeNull();
      expect(verdict.evidence).toMatch(
        /^none of the \d+ requests was admitted or refused: nothing to judge \([1-9]\d* failed, 0 answered 503\)/,
      );
    }
  });

  describe('Redis killed after the windows', () => {
    const short = { windows: 2, clients: { under: 0 }, bypass: false } as const;

    test('a limiter said to fail open admits every request while Redis is down, and Redis is started again', async () => {
      const result = await runOn(rateLimit, targets.good, { ...short, redisDown: { expect: 'open' } });
      expect(result.pass, verdictLines(result)).toBe(true);
      expect(result.measurements).toMatchObject({ redisDownSent: 60, redisDownViolations: 0 });
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
      expect(down.evidence).toMatch(/^with Redis killed, \d+ of 60 requests were admitted \(0 answered 429, 0 503/);
    });

    test('an app that answers nothing while Redis is down shows neither way of failing: the verdict measures nothing', async () => {
      // An app that never answers at all (it hangs on the dead Redis, say): before, no 429 or
      // 503 among no answer passed "fails open".
      const silent = net.createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
        const context = { ...targets.good.context, app: { url } };
        const options = {
          windows: 1,
          clients: { under: 0 },
          bypass: false,
          timeoutMs: 300,
          redisDown: { expect: 'open' },
        };
        const result = await runSuite(rateLimit, context, options, {
          target: 'an app that never answers',
          run: await resultsRun(),
        });
        expect(verdictOn(result, 'redisDownViolations'), verdictLines(result)).toMatchObject({
          pass: false,
          measured: null,
          evidence: expect.stringMatching(
            /^with Redis killed, 0 of \d+ requests were admitted \(0 answered 429, 0 503, 0 another status, \d+ not at all\): none answered, nothing to judge/,
          ),
        });
        expect(result.measurements.redisDownViolations).toBeNull();
        expect(result.events.map((e) => `${e.kind} ${e.target}`)).toEqual(['kill redis', 'start redis']);
      } finally {
        silent.close();
      }
    });

    test('failing closed where open was stated fails: every request refused with 503', async () => {
      const result = await runOn(rateLimit, targets.failClosed, { ...short, redisDown: { expect: 'open' } });
      const down = verdictOn(result, 'redisDownViolations');
      expect(down.pass, verdictLines(result)).toBe(false);
      expect(down.measured).toBe(60);
      expect(down.evidence).toBe(
        'with Redis killed, 0 of 60 requests were admitted (0 answered 429, 60 503, 0 another status, 0 not at all)',
      );
    });
  });

  test('the precision is one request: a budget of 0 overshoot holds at exactly the limit, and the note says what one request is', async () => {
    const result = await runOn(rateLimit, targets.good, { windows: 2, clients: { under: 0 }, bypass: false });
    expect(verdictOn(result, 'overshoot').measured).toBe(0);
    expect(result.notes.join('\n')).toMatch(/a 1-request overshoot is 0\.0500 of the limit/);
  });
});
