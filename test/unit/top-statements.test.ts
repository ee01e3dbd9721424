// The top statements of a load (issue 16): summed over the nodes by fingerprint, ranked by
// total time, and compared with the baseline's: new in the top N, buffers per call grown past
// the tolerance and the floor, a plan of another shape. Pure: no database here (the gate test
// runs them on the reference app).
import { expect, test } from 'vitest';
import type { QueryEvent } from '../../harness/capture/types.ts';
import {
  compareTopStatements,
  shapeOf,
  type TopStatement,
  topStatementsOf,
} from '../../harness/capture/top-statements.ts';

const event = (fingerprint: string, node: string, calls: number, durationMs: number, buffers: number): QueryEvent => ({
  fingerprint,
  sql: `SELECT ${fingerprint} FROM t WHERE id = $1`,
  durationMs,
  rows: calls,
  node,
  calls,
  buffers,
});

test('one statement per fingerprint over every node, ranked by total time, with its work per call', () => {
  const top = topStatementsOf(
    [
      event('a', 'primary', 10, 5, 30),
      event('a', 'replica1', 10, 5, 30),
      event('b', 'replica1', 2, 40, 2000),
      event('c', 'primary', 100, 1, 300),
    ],
    2,
  );
  expect(top.map((s) => [s.fingerprint, s.calls, s.totalMs, s.meanMs, s.buffersPerCall])).toEqual([
    ['b', 2, 40, 20, 1000],
    ['a', 20, 10, 0.5, 3],
  ]);
});

const statement = (fingerprint: string, buffersPerCall: number, plan?: string[]): TopStatement => ({
  fingerprint,
  query: `SELECT ${fingerprint}`,
  calls: 10,
  totalMs: 10,
  meanMs: 1,
  buffersPerCall,
  rowsPerCall: 1,
  ...(plan ? { plan } : {}),
});
const options = { buffersTolerance: 0.5, buffersMin: 8 };

test('the same statements with the same plans and about the same buffers: no change', () => {
  const before = [statement('a', 4, ['Limit', 'Index Scan on media']), statement('b', 100)];
  const now = [statement('b', 140), statement('a', 9, ['Limit', 'Index Scan on media'])];
  expect(compareTopStatements(now, before, options)).toEqual([]);
});

test("a statement not among the baseline's is new; buffers grown past both bounds and a plan of another shape are changes", () => {
  const before = [statement('a', 4, ['Limit', 'Index Scan on media']), statement('b', 100)];
  const now = [statement('a', 40, ['Limit', 'Sort', 'Seq Scan on media']), statement('b', 151), statement('c', 1)];
  const changes = compareTopStatements(now, before, options);
  expect(changes.map((c) => `${c.query} ${c.kind}`)).toEqual([
    'SELECT a buffers',
    'SELECT a plan',
    'SELECT b buffers',
    'SELECT c new',
  ]);
  expect(changes[1]!.evidence).toBe('plan Limit > Index Scan on media → Limit > Sort > Seq Scan on media');
  expect(changes[3]!.evidence).toMatch(/^new in the top 3 \(rank 3, 10 ms over 10 calls; not among the baseline's 2\)/);
});

test('a plan unknown on either side is not a change', () => {
  expect(compareTopStatements([statement('a', 4)], [statement('a', 4, ['Seq Scan on t'])], options)).toEqual([]);
});

test("a plan's shape: node types in tree order, a scan with its table", () => {
  expect(
    shapeOf({
      'Node Type': 'Limit',
      Plans: [{ 'Node Type': 'Sort', Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'media' }] }],
    }),
  ).toEqual(['Limit', 'Sort', 'Seq Scan on media']);
});
