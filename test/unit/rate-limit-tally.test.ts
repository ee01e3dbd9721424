// The rate-limit suite judges the app only by what holds for every window the app may have
// counted each request in (from the one it was sent for to the one its answer came in), so a
// busy machine's late arrivals never read as the app's fault, and a wrong limiter still does.
import { describe, expect, test } from 'vitest';
import type { WindowedAnswer } from '../../load/engines/windowed-load.ts';
import { UsageError } from '../../harness/errors.ts';
import { rateLimit } from '../../suites/rate-limit/rate-limit.ts';
import { fieldsTally, headersVerdict } from '../../suites/rate-limit/ratelimit-fields.ts';
import { type LimitClient, leastExcess, tally } from '../../suites/rate-limit/tally.ts';

const WINDOW = 1000;
const client = (role: LimitClient['role'], perWindow: number): LimitClient => ({
  name: `${role}1`,
  role,
  perWindow,
  headers: {},
});
/** `count` requests sent in `window`, each answered `delay` ms after it was sent, with `status`. */
const sent = (window: number, count: number, status: number, delay = 10, retryAfter?: string): WindowedAnswer[] =>
  Array.from({ length: count }, (_, i) => ({
    window,
    sentAt: window * WINDOW + 200 + i * 10,
    doneAt: window * WINDOW + 200 + i * 10 + delay,
    status,
    ...(retryAfter ? { retryAfter } : {}),
  }));
const judge = (role: LimitClient['role'], answers: WindowedAnswer[], limit = 10) =>
  tally([client(role, 0)], { firstWindowAt: 0, answers: [answers], windowMs: WINDOW, limit }).all[0]!;

describe('leastExcess', () => {
  test('requests that fit one window each are no excess; the ones above the capacity are', () => {
    expect(
      leastExcess(
        [...Array(10)].map(() => [0, 0] as const),
        10,
      ),
    ).toBe(0);
    expect(
      leastExcess(
        [...Array(13)].map(() => [0, 0] as const),
        10,
      ),
    ).toBe(3);
  });

  test('a request that may have been counted in the next window is placed there when its own is full', () => {
    const ranges = [...[...Array(10)].map(() => [0, 0] as const), ...[...Array(5)].map(() => [0, 1] as const)];
    expect(leastExcess(ranges, 10)).toBe(0);
  });

  test('the placing is the best there is: the request with the least room goes first', () => {
    // Five that could go in 0 or 1, then ten that can only go in 1: five of the first in 0.
    const ranges = [...[...Array(5)].map(() => [0, 1] as const), ...[...Array(10)].map(() => [1, 1] as const)];
    expect(leastExcess(ranges, 10)).toBe(0);
    expect(leastExcess([...ranges, [1, 1]], 10)).toBe(1);
  });
});

describe('a client over its limit', () => {
  test('admitted exactly its limit each window: no excess, and the refusals are not collateral', () => {
    const c = judge(
      'over',
      [0, 1, 2, 3].flatMap((w) => [...sent(w, 10, 200), ...sent(w, 20, 429, 10, '1')]),
    );
    expect(c).toMatchObject({ admitted: 40, limited: 80, excess: 0, late: 0, retryAfterWrong: 0 });
  });

  test('admitted twice its limit (a count in each of two instances): every one above the limit is excess', () => {
    const c = judge(
      'over',
      [0, 1, 2, 3].flatMap((w) => [...sent(w, 20, 200), ...sent(w, 10, 429, 10, '1')]),
    );
    expect(c.excess).toBe(40);
  });

  test('a right limiter on a busy machine: answers a window late may have been counted there, and are no excess', () => {
    // Each window's last 5 admitted arrived in the next window, where the app counted them
    // with that window's first 5: 10 a window, as it should.
    const answers = [0, 1, 2, 3].flatMap((w) => [
      ...sent(w, 5, 200),
      ...sent(w, 5, 200, 1000),
      ...sent(w, 20, 429, 1000, '1'),
    ]);
    expect(judge('over', answers)).toMatchObject({ admitted: 40, excess: 0 });
  });

  test('late answers still leave the excess that no placing removes', () => {
    const answers = [0, 1].flatMap((w) => sent(w, 20, 200, 1000));
    // 40 admitted over windows 0..2 (the last answers came in window 2): at most 30 fit.
    expect(judge('over', answers).excess).toBe(10);
  });
});

describe('a client under its limit', () => {
  test('refused with 5 of its requests in the window: collateral', () => {
    const c = judge('under', [...sent(0, 4, 200), ...sent(0, 1, 429, 10, '1')]);
    expect(c).toMatchObject({ wronglyRefused: 1, refusedUnclear: 0 });
  });

  test('refused where three windows of its requests may have piled into one (a stalled machine): neither way', () => {
    // 5 a window, the first two windows' answers all a window or two late: window 2 may hold 15.
    const answers = [...sent(0, 5, 200, 2000), ...sent(1, 5, 200, 1000), ...sent(2, 4, 200), ...sent(2, 1, 429)];
    expect(judge('under', answers)).toMatchObject({ wronglyRefused: 0, late: 10 });
    const stalled = [...sent(0, 5, 200, 2000), ...sent(1, 5, 200, 1000), ...sent(2, 5, 429, 500)];
    expect(judge('under', stalled)).toMatchObject({ wronglyRefused: 0, refusedUnclear: 5 });
  });
});

describe('Retry-After', () => {
  test('missing, "0" in a window that has not ended, or two windows on: wrong; "1" right, also when the answer was late', () => {
    expect(judge('over', sent(0, 1, 429)).retryAfterWrong).toBe(1);
    expect(judge('over', sent(0, 1, 429, 10, '0')).retryAfterWrong).toBe(1);
    expect(judge('over', sent(0, 1, 429, 10, '4')).retryAfterWrong).toBe(1);
    expect(judge('over', sent(0, 1, 429, 10, '1')).retryAfterWrong).toBe(0);
    expect(judge('over', sent(0, 1, 429, 1500, '1')).retryAfterWrong).toBe(0);
  });

  test('"0" is early however late the answer came; "1" answered near the window\'s end cannot be shown early', () => {
    expect(judge('over', sent(0, 1, 429, 1500, '0')).retryAfterWrong).toBe(1);
    // Sent at 200 ms, answered at 1,100 ms: decided at 990 ms, "1" (2 s) is not early.
    expect(judge('over', sent(0, 1, 429, 900, '1')).retryAfterWrong).toBe(0);
  });

  test('an HTTP date is read as the instant it names', () => {
    const at = (ms: number) => new Date(ms).toUTCString();
    const answers = (retryAfter: string) => [{ window: 0, sentAt: 200, doneAt: 210, status: 429, retryAfter }];
    const report = (retryAfter: string, firstWindowAt: number) =>
      tally([client('over', 0)], {
        firstWindowAt,
        answers: [answers(retryAfter)],
        windowMs: WINDOW,
        limit: 10,
      });
    const first = 1_800_000_000_000;
    expect(report(at(first + 1000), first).all[0]!.retryAfterWrong).toBe(0);
    expect(report(at(first), first).all[0]!.retryAfterWrong).toBe(1);
  });
});

describe('the RateLimit fields', () => {
  /** A window's answers as a right shared count gives them: admitted 1…limit saying limit − n remain, then 429s saying 0. */
  const counted = (window: number, sentCount: number, limit = 10, delay = 10, offBy = 0): WindowedAnswer[] =>
    sent(window, sentCount, 0, delay).map((answer, i) => {
      const n = i + 1;
      return n <= limit
        ? { ...answer, status: 200, remaining: limit - n + offBy, reset: 1 }
        : { ...answer, status: 429, remaining: 0, reset: 1, retryAfter: '1' };
    });
  const fields = (answers: WindowedAnswer[]) => fieldsTally(answers, { windowMs: WINDOW, firstWindowAt: 0, limit: 10 });

  test('a shared count, said right: nothing misstated, also when the answers came a window late', () => {
    expect(fields([...counted(0, 30), ...counted(1, 30)])).toEqual({ said: 60, wrong: 0 });
    expect(fields([...counted(0, 30, 10, 1000), ...counted(1, 30, 10, 1000)]).wrong).toBe(0);
  });

  test('one above the truth: the first of each window says all 10 remain after it was counted itself', () => {
    // Number 10 is never said either, but the first answer may have taken it: one a window.
    expect(fields([...counted(0, 30, 10, 10, 1), ...counted(1, 30, 10, 10, 1)]).wrong).toBe(2);
  });

  test('a count that says 0 remain and admits more: the numbers said twice', () => {
    const window = counted(0, 30).map((a, i) => (i >= 10 && i < 13 ? { ...a, status: 200, remaining: 0 } : a));
    expect(fields(window).wrong).toBe(3);
  });

  test('a count in each of two instances says each number twice a window', () => {
    const twice = [...counted(0, 15), ...counted(0, 15)];
    expect(fields(twice).wrong).toBe(10);
  });

  test('a 429 saying requests remain, and a reset of 0, are misstated', () => {
    const [first] = sent(0, 1, 429, 10, '1');
    expect(fields([{ ...first!, remaining: 3, reset: 1 }]).wrong).toBe(1);
    expect(fields([{ ...first!, remaining: 0, reset: 0 }]).wrong).toBe(1);
  });

  test('a number not said is no misstatement while a request that may have taken it went unanswered', () => {
    const window = counted(0, 30);
    const lost = window.map((a, i) => (i === 4 ? { ...a, status: 0, remaining: undefined, reset: undefined } : a));
    expect(fields(lost).wrong).toBe(0);
  });
});

describe('the RateLimit verdict and the bad-input bound', () => {
  const client = (name: string, role: LimitClient['role']): LimitClient => ({ name, role, perWindow: 30, headers: {} });

  test('an app that sends no RateLimit fields at all fails the verdict on every answer, saying so', () => {
    const answers = [...sent(0, 10, 200), ...sent(0, 20, 429, 10, '1')];
    const report = { firstWindowAt: 0, answers: [answers], windowMs: WINDOW, limit: 10 };
    const counts = tally([client('over1', 'over')], report);
    const verdict = headersVerdict(counts, [fieldsTally(answers, report)], {
      request: 'GET /x',
      budgets: { rateLimitHeaders: 0 },
    });
    expect(verdict.pass).toBe(false);
    expect(verdict.measured).toBe(30);
    expect(verdict.evidence).toMatch(/^none of 30 answers carried RateLimit-Remaining .* rateLimitHeaders: false/);
  });

  test('more than 100,000 requests in a run is bad input, one line naming what to lower', () => {
    const options = rateLimit.options.parse({ limit: 10_000, windows: 10 });
    expect(() => rateLimit.preflight!(options, { provider: 'native', replicas: 0, redis: true })).toThrow(UsageError);
    expect(() => rateLimit.preflight!(options, { provider: 'native', replicas: 0, redis: true })).toThrow(
      /^suite rate-limit: 1000000 requests \(100000 a window for 10 windows\) is more than the 100000 a run can send; lower the suite's limit/,
    );
    const fine = rateLimit.options.parse({});
    expect(() => rateLimit.preflight!(fine, { provider: 'native', replicas: 0, redis: true })).not.toThrow();
  });
});
