// The speed-up claim's pure parts: the statements log_min_duration_statement logged, with the
// parameters of the DETAIL line their backend wrote after them, and the bootstrap interval of
// the ratio (paired rounds, seeded, a fixed number of resamples).
import { describe, expect, test } from 'vitest';
import { bootstrapRatio, recallOf } from '../../harness/capture/speed-up.ts';
import { executedOf, parseParameters, parseServerLog } from '../../harness/capture/server-log.ts';

describe('executedOf', () => {
  const P = (pid: number, who = 'app@shop') => `2026-12-03 10:00:00.000 UTC [${pid}] ${who} 77`;

  test('an extended-protocol execute with its parameters, quotes undone and NULL kept', () => {
    const text = [
      `${P(1)} LOG:  duration: 0.050 ms  parse <unnamed>: SELECT * FROM t WHERE a = $1`,
      `${P(1)} LOG:  duration: 0.020 ms  bind <unnamed>: SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3`,
      `${P(1)} DETAIL:  parameters: $1 = '17', $2 = NULL, $3 = 'it''s, $2 = x'`,
      `${P(2)} LOG:  duration: 0.010 ms  statement: BEGIN`,
      `${P(1)} LOG:  duration: 0.300 ms  execute <unnamed>: SELECT * FROM t`,
      '\tWHERE a = $1 AND b = $2 AND c = $3',
      `${P(1)} DETAIL:  parameters: $1 = '17', $2 = NULL, $3 = 'it''s, $2 = x'`,
      `${P(3, 'other@shop')} LOG:  duration: 0.300 ms  statement: SELECT 2`,
    ].join('\n');
    expect(executedOf(parseServerLog(text), 'app', 'shop')).toEqual([
      { text: 'BEGIN', params: [] },
      { text: 'SELECT * FROM t\nWHERE a = $1 AND b = $2 AND c = $3', params: ['17', null, "it's, $2 = x"] },
    ]);
  });

  test('a parameter left out of the DETAIL line is NULL, in its place', () => {
    expect(parseParameters("parameters: $1 = 'a', $3 = 'c'")).toEqual(['a', null, 'c']);
  });
});

describe('bootstrapRatio', () => {
  const rounds = (pairs: [number, number][]) => pairs.map(([withMs, withoutMs]) => ({ withMs, withoutMs }));

  test('the ratio of sums, inside its interval; the same seed gives the same interval', () => {
    const r = rounds([
      [1, 30],
      [1.2, 28],
      [0.9, 33],
      [1.1, 31],
      [1, 29],
    ]);
    const interval = bootstrapRatio(r, 16);
    expect(interval.ratio).toBeCloseTo(151 / 5.2, 6);
    expect(interval.lower).toBeLessThanOrEqual(interval.ratio);
    expect(interval.upper).toBeGreaterThanOrEqual(interval.ratio);
    expect(interval.lower).toBeGreaterThan(25);
    expect(interval.resamples).toBe(2000);
    expect(bootstrapRatio(r, 16)).toEqual(interval);
  });

  test('rounds that disagree widen the interval: one slow round with the index pulls the lower bound down', () => {
    const steady = bootstrapRatio(rounds(Array.from({ length: 10 }, () => [1, 30] as [number, number])), 1);
    expect(steady).toMatchObject({ lower: 30, upper: 30 });
    const noisy = bootstrapRatio(
      rounds([...Array.from({ length: 9 }, () => [1, 30] as [number, number]), [20, 30]]),
      1,
    );
    expect(noisy.lower).toBeLessThan(15);
    expect(noisy.upper).toBe(30);
  });
});

describe('recallOf', () => {
  test('the share of the exact rows found, as multisets; an empty exact answer is kept whole', () => {
    expect(recallOf(['a', 'b', 'c'], ['c', 'b', 'a'])).toBe(1);
    expect(recallOf(['a', 'b', 'x', 'y'], ['a', 'b', 'c', 'd'])).toBe(0.5);
    expect(recallOf(['a'], ['a', 'a'])).toBe(0.5);
    expect(recallOf([], [])).toBe(1);
  });
});
