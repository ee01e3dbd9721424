// N+1 detection on synthetic statement counts: a shape whose count grows with the list
// size is an N+1, one that stays put is not, however many times it runs.
import { describe, expect, test } from 'vitest';
import {
  countShapes,
  findNPlusOne,
  perRequestTotals,
  validateSizes,
  type SizedRun,
} from '../../harness/capture/detect.ts';
import type { QueryEvent } from '../../harness/capture/types.ts';

const event = (fingerprint: string, calls: number, sql = `SELECT ${fingerprint}`): QueryEvent =>
  ({ fingerprint, sql, calls, durationMs: calls * 0.1 }) as QueryEvent;

/** Runs at the given sizes, each shape's count a function of the size. */
function runs(
  sizes: number[],
  shapes: Record<string, (k: number) => number>,
  sql: Record<string, string> = {},
): SizedRun[] {
  return sizes.map((size) => ({
    size,
    events: Object.entries(shapes)
      .map(([shape, calls]) => event(shape, calls(size), sql[shape]))
      .filter((e) => e.calls > 0),
  }));
}

describe('findNPlusOne', () => {
  const cases: [string, number[], Record<string, (k: number) => number>, { fingerprint: string; slope: number }[]][] = [
    [
      'one list query and one per item: the per-item query is the N+1',
      [5, 25],
      { list: () => 1, item: (k) => k },
      [{ fingerprint: 'item', slope: 1 }],
    ],
    ['a join (a fixed number of queries) is not', [5, 25], { list: () => 1, join: () => 1 }, []],
    [
      'four fixed queries, however often each runs, are not',
      [5, 25, 50],
      { a: () => 3, b: () => 3, c: () => 7, d: () => 1 },
      [],
    ],
    [
      'nested 1 + K + K·M shows as slopes 1 and M',
      [5, 25],
      { list: () => 1, item: (k) => k, media: (k) => 3 * k },
      [
        { fingerprint: 'media', slope: 3 },
        { fingerprint: 'item', slope: 1 },
      ],
    ],
    [
      'one stray extra statement at the larger size is not a slope',
      [5, 25],
      { list: () => 1, audit: (k) => (k === 25 ? 2 : 1) },
      [],
    ],
    [
      'a count that falls somewhere is not monotonic, so not an N+1',
      [5, 25, 50],
      { odd: (k) => (k === 25 ? 60 : k) },
      [],
    ],
    [
      'half a statement per item is the threshold',
      [10, 30],
      { half: (k) => k / 2 },
      [{ fingerprint: 'half', slope: 0.5 }],
    ],
    [
      'a shape that appears only at the larger size counts 0 at the smaller',
      [5, 25],
      { late: (k) => (k === 25 ? 25 : 0) },
      [{ fingerprint: 'late', slope: 1.25 }],
    ],
  ];
  test.each(cases)('%s', (_, sizes, shapes, expected) => {
    expect(
      findNPlusOne('GET /list', runs(sizes, shapes)).map((f) => ({ fingerprint: f.fingerprint, slope: f.slope })),
    ).toEqual(expected);
  });

  test('a finding names the operation, its counts by size, an example statement and a fix', () => {
    const [finding] = findNPlusOne(
      'GET /inspections',
      runs([5, 25], { item: (k) => k }, { item: 'SELECT name FROM inspectors WHERE id = $1' }),
    );
    expect(finding).toMatchObject({
      operation: 'GET /inspections',
      countsBySize: { 5: 5, 25: 25 },
      exampleSql: 'SELECT name FROM inspectors WHERE id = $1',
    });
    expect(finding!.hint).toMatch(/WHERE … = ANY\(\$1\)/);
  });

  test('the hint for a per-item join says to fetch for all items at once', () => {
    const [finding] = findNPlusOne(
      'GET /x',
      runs([5, 25], { item: (k) => k }, { item: 'SELECT * FROM a JOIN b ON a.id = b.a_id WHERE a.id = $1' }),
    );
    expect(finding!.hint).toMatch(/for all items at once/);
  });
});

describe('validateSizes', () => {
  test.each([
    [[5], /at least two sizes \(got 1\)/],
    [[], /at least two sizes \(got 0\)/],
    [[25, 5], /sizes must be increasing \(got 25, 5\)/],
    [[5, 5], /sizes must be increasing/],
    [[0, 5], /whole numbers ≥ 1/],
    [[1.5, 5], /whole numbers ≥ 1/],
  ])('%j is refused', (sizes, message) => {
    expect(() => validateSizes(sizes)).toThrow(message);
  });
  test.each([[[5, 25]], [[1, 2, 3]], [[5, 25, 100]]])('%j is accepted', (sizes) => {
    expect(() => validateSizes(sizes)).not.toThrow();
  });
});

test('countShapes adds the calls of one shape within a size, and fills 0 where it is absent', () => {
  const counted = countShapes([
    { size: 5, events: [event('a', 2), event('a', 3)] },
    { size: 25, events: [event('b', 1)] },
  ]);
  expect(counted.map((s) => [s.fingerprint, s.countsBySize])).toEqual([
    ['a', { 5: 5, 25: 0 }],
    ['b', { 5: 0, 25: 1 }],
  ]);
});

test('perRequestTotals sums statements and database time', () => {
  expect(perRequestTotals([event('a', 2), event('b', 3)])).toEqual({ queries: 5, dbMs: 0.5 });
});
