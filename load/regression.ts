import { judge, type Verdict } from '../harness/budgets/index.ts';
import type { LoadResult } from '../harness/results/run-result.ts';
import { Rng } from '../harness/random/index.ts';

/**
 * Is this run slower than the baseline? Only when the change is both larger than a
 * tolerance and statistically significant, so that the same code on a noisy machine gets
 * the same verdict run after run.
 *
 * The statistic: the median of the per-100 ms bucket medians (p50), whose buckets are
 * many and roughly independent. The test: a bootstrap (seeded, so a given pair of runs
 * always gets the same answer) of the difference of those medians, current − baseline;
 * the two-sided confidence interval's lower bound, relative to the baseline, must not
 * exceed the tolerance.
 */
export interface RegressionOptions {
  /** A relative slow-down below this is never a regression (0.1: 10 %). */
  tolerance?: number;
  /**
   * Nor is one below this many ms: on a shared machine a sub-millisecond service's median
   * moves by several ms with the load of its neighbours, which is no change of the code.
   */
  minDeltaMs?: number;
  confidence?: number;
  resamples?: number;
}

export interface RegressionCheck {
  baselineMs: number;
  currentMs: number;
  /** Confidence interval of (current − baseline) / baseline. */
  interval: [number, number];
  test: string;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Bucket medians of buckets that hold enough requests to have one. */
const bucketMedians = (load: LoadResult) => load.buckets.filter((b) => b.requests >= 3).map((b) => b.p50Ms);

export function bootstrapChange(
  baseline: number[],
  current: number[],
  options: RegressionOptions = {},
): RegressionCheck {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const rng = new Rng(1, 'dbproof-regression');
  const resample = (values: number[]) =>
    median(Array.from(values, () => values[Math.floor(rng.next() * values.length)]!));
  const baselineMs = median(baseline);
  const changes = Array.from({ length: resamples }, () => (resample(current) - resample(baseline)) / baselineMs).sort(
    (a, b) => a - b,
  );
  const tail = (1 - confidence) / 2;
  return {
    baselineMs,
    currentMs: median(current),
    interval: [
      changes[Math.floor(tail * resamples)]!,
      changes[Math.min(resamples - 1, Math.ceil((1 - tail) * resamples) - 1)]!,
    ],
    test: `bootstrap (${resamples} resamples, seeded) of the difference of medians of per-100 ms bucket p50s, ${Math.round(confidence * 100)} % two-sided interval`,
  };
}

/** The verdict on one scenario against its baseline: the interval's lower bound must stay within the tolerance. */
export function regressionVerdict(current: LoadResult, baseline: LoadResult, options: RegressionOptions = {}): Verdict {
  const tolerance = options.tolerance ?? 0.1;
  const minDeltaMs = options.minDeltaMs ?? 5;
  const currentMedians = bucketMedians(current);
  const baselineMedians = bucketMedians(baseline);
  const claim = `${current.name} is not slower than the baseline by more than ${Math.round(tolerance * 100)} % (and ${minDeltaMs} ms)`;
  const budget = (limit: number) => ({
    metric: 'p50SlowdownLowerBound',
    op: '<=' as const,
    limit,
    unit: 'ratio' as const,
    scope: current.request,
  });
  if (currentMedians.length < 5 || baselineMedians.length < 5)
    return judge(
      claim,
      budget(tolerance),
      null,
      'fewer than 5 usable 100 ms buckets in this run or the baseline: run the scenario longer',
    );
  const check = bootstrapChange(baselineMedians, currentMedians, options);
  // The tolerance actually applied: the larger of the share and the absolute floor over the baseline.
  const effective = Math.max(tolerance, minDeltaMs / check.baselineMs);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  return judge(
    claim,
    budget(effective),
    check.interval[0],
    `median p50 ${check.baselineMs.toFixed(3)} → ${check.currentMs.toFixed(3)} ms, change in [${pct(check.interval[0])}, ${pct(check.interval[1])}]; tolerance max(${pct(tolerance)}, ${minDeltaMs} ms = ${pct(minDeltaMs / check.baselineMs)}); ${check.test}`,
  );
}
