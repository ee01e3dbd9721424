// The regression check's statistics: a seeded bootstrap of the difference of medians of
// per-100 ms bucket p50s. The same data always gets the same answer; noise within the
// tolerance is not a regression; a real slow-down is.
import { describe, expect, test } from 'vitest';
import { Rng } from '../../harness/random/index.ts';
import { bootstrapChange } from '../../load/regression.ts';

/** Bucket medians around `centre` ms with ±`spread` ms of noise, deterministic. */
const medians = (centre: number, spread: number, count: number, seed: number) => {
  const rng = new Rng(seed, 'medians');
  return Array.from({ length: count }, () => centre + (rng.next() * 2 - 1) * spread);
};

describe('bootstrapChange', () => {
  test('the same data gives the same interval every time (seeded)', () => {
    const a = medians(1.0, 0.3, 50, 1);
    const b = medians(1.05, 0.3, 50, 2);
    expect(bootstrapChange(a, b)).toEqual(bootstrapChange(a, b));
  });

  test('two noisy runs of the same service: the interval holds 0, its lower bound stays under a 10 % tolerance', () => {
    const check = bootstrapChange(medians(1.0, 0.4, 50, 3), medians(1.0, 0.4, 50, 4));
    expect(check.interval[0]).toBeLessThan(0);
    expect(check.interval[1]).toBeGreaterThan(0);
    expect(check.interval[0]).toBeLessThan(0.1);
  });

  test('a service 50 % slower: the whole interval is above the tolerance', () => {
    const check = bootstrapChange(medians(1.0, 0.2, 50, 5), medians(1.5, 0.2, 50, 6));
    expect(check.interval[0]).toBeGreaterThan(0.3);
    expect(check.test).toMatch(/bootstrap \(2000 resamples, seeded\) .* 95 % two-sided interval/);
  });

  test('a small but certain slow-down (3 %) stays within a 10 % tolerance', () => {
    const check = bootstrapChange(medians(1.0, 0.01, 50, 7), medians(1.03, 0.01, 50, 8));
    expect(check.interval[0]).toBeGreaterThan(0);
    expect(check.interval[0]).toBeLessThan(0.1);
  });
});
