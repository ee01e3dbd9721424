// The size ladder's fit (query-plans' scaling claim): shared buffers per execution against the
// rows of the tables read, on log–log axes. A lookup is flat, a scan grows in proportion, and
// the fit needs two sizes at least; a statement that fails or finds nothing at some sizes only
// cannot carry the claim. Pure: the suite's test runs it on the reference app.
import { expect, test } from 'vitest';
import {
  describeScaling,
  fitLadder,
  logLogSlope,
  type MeasuredRung,
  type ScalingRung,
  type StatementRun,
} from '../../harness/capture/scaling.ts';

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

const measured = (scale: number, rows: number, runs: StatementRun[]): MeasuredRung => ({ scale, rows, runs });
const ran = (buffers: number, rows = 1): StatementRun => ({ buffers, rows });

test('the ladder fits the statements that ran at every size, averaged per size', () => {
  const fit = fitLadder([
    measured(0.01, 1_000, [ran(4), ran(10)]),
    measured(0.1, 10_000, [ran(4), ran(100)]),
    measured(1, 100_000, [ran(4), ran(1000)]),
  ]);
  expect(fit.rungs.map((r) => r.buffersPerExecution)).toEqual([7, 52, 502]);
  expect(fit.slope).toBeGreaterThan(0.9);
  expect(fit.notes).toEqual([]);
});

test('a scan that fails at the largest size (its time-out) makes the fit unjudged, never a pass by dropping out', () => {
  const fit = fitLadder([
    measured(0.01, 1_000, [ran(4), ran(10)]),
    measured(0.1, 10_000, [ran(4), ran(100)]),
    measured(1, 100_000, [ran(4), { error: 'canceling statement due to statement timeout' }]),
  ]);
  expect(fit.slope).toBeNull();
  expect(describeScaling(fit)).toMatch(
    /log–log slope not judged; statement 2 failed at scale 1 and ran at the others \(canceling statement due to statement timeout\)$/,
  );
});

test('a statement that fails at every size (a table the app makes itself) is left out, said so; one whose id the smaller data set lacks too', () => {
  const fit = fitLadder([
    measured(0.01, 1_000, [ran(4), { error: 'relation "notes" does not exist' }, ran(3, 0)]),
    measured(0.1, 10_000, [ran(4), { error: 'relation "notes" does not exist' }, ran(22, 20)]),
  ]);
  expect(fit.slope).toBe(0);
  expect(fit.rungs.map((r) => [r.buffersPerExecution, r.statements, r.failed])).toEqual([
    [4, 2, 1],
    [4, 2, 1],
  ]);
  expect(describeScaling(fit)).toBe(
    'shared buffers per execution 4 buffers at 1,000 rows (scale 0.01), 4 buffers at 10,000 rows (scale 0.1): log–log slope 0; statement 2 failed at every size, left out (relation "notes" does not exist); statement 3 returned rows at some sizes and none at others (an id the smaller data set lacks), left out',
  );
  expect(
    fitLadder([measured(0.01, 1_000, [{ error: 'x' }]), measured(0.1, 10_000, [{ error: 'x' }])]).slope,
  ).toBeNull();
});
