// The size ladder's fit (query-plans' scaling claim): shared buffers per execution against the
// rows of the tables read, on log–log axes. A lookup is flat, a scan grows in proportion, and
// the fit needs two sizes at least. Pure: the suite's test runs it on the reference app.
import { expect, test } from 'vitest';
import { describeScaling, logLogSlope, type ScalingRung } from '../../harness/capture/scaling.ts';

const rung = (scale: number, rows: number, buffersPerExecution: number): ScalingRung => ({
  scale,
  rows,
  buffersPerExecution,
  statements: 2,
  failed: 0,
});

test('an index lookup is flat: the same buffers at every size, slope 0', () => {
  expect(logLogSlope([rung(0.01, 1_000, 4), rung(0.1, 10_000, 4), rung(1, 100_000, 4)])).toBe(0);
});

test('a scan grows in proportion to its table: slope 1; a B-tree a level deeper moves it little', () => {
  expect(logLogSlope([rung(0.01, 1_000, 10), rung(0.1, 10_000, 100), rung(1, 100_000, 1000)])).toBe(1);
  const deeper = logLogSlope([rung(0.01, 1_000, 3), rung(0.1, 10_000, 4), rung(1, 100_000, 4)])!;
  expect(deeper).toBeGreaterThan(0);
  expect(deeper).toBeLessThan(0.1);
});

test('fewer than two sizes with rows cannot be fitted; a statement that touched no buffer counts as one', () => {
  expect(logLogSlope([rung(0.01, 1_000, 4)])).toBeNull();
  expect(logLogSlope([rung(0.01, 1_000, 4), rung(0.1, 1_000, 40)])).toBeNull();
  expect(logLogSlope([rung(0.01, 0, 4), rung(0.1, 10_000, 4)])).toBeNull();
  expect(logLogSlope([rung(0.01, 1_000, 0), rung(0.1, 10_000, 1)])).toBe(0);
});

test('the evidence names the work at each size and the statements that failed', () => {
  const rungs = [
    rung(0.01, 1_000, 4),
    { ...rung(0.1, 10_000, 40), failed: 1, firstFailure: 'relation "notes" does not exist' },
  ];
  expect(describeScaling(rungs, 1)).toBe(
    'shared buffers per execution 4 buffers at 1,000 rows (scale 0.01), 40 buffers at 10,000 rows (scale 0.1): log–log slope 1; 1 statement run(s) failed (relation "notes" does not exist)',
  );
});
