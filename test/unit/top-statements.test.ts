// The top statements of a load (issue 16): summed over the nodes by fingerprint, ranked by
// total time, and compared with the baseline's: new in the top N, buffers per call grown past
// the tolerance and the floor, a plan of another shape. Pure: no database here (the gate test
// runs them on the reference app).
import { beforeAll, expect, test } from 'vitest';
import { loadParser } from '../../harness/capture/fingerprint.ts';
import type { QueryEvent } from '../../harness/capture/types.ts';
import {
  compareTopStatements,
  forTheRecord,
  isPlannable,
  shapeOf,
  type TopStatement,
  topStatementsOf,
} from '../../harness/capture/top-statements.ts';

beforeAll(() => loadParser());

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
  // Of all 51 ms the load's statements took, c's included.
  expect(top.map((s) => s.share)).toEqual([0.784, 0.196]);
});

test('statements of equal total time rank by fingerprint, the same in every run', () => {
  const events = [event('z', 'primary', 1, 5, 1), event('m', 'primary', 1, 5, 1), event('a', 'primary', 1, 5, 1)];
  expect(topStatementsOf(events, 3).map((s) => s.fingerprint)).toEqual(['a', 'm', 'z']);
  expect(topStatementsOf([...events].reverse(), 3).map((s) => s.fingerprint)).toEqual(['a', 'm', 'z']);
});

test("as kept: a utility statement's literals normalised away, text the parser cannot read reduced to its first word", () => {
  const kept = (query: string, fingerprint = 'f') =>
    forTheRecord({ ...statement(fingerprint, 1), query }, (text) => text.replace(/postgres:\/\/\S+/g, '[url]'));
  // pg_stat_statements keeps these as the app sent them.
  expect(kept("SET app.api_key = 's3cret-value'").query).toBe('SET app.api_key = $1');
  expect(kept("CALL log_in('alice', 'hunter2')").query).toBe('CALL log_in($1, $2)');
  expect(kept('SELECT * FROM media WHERE id = $1').query).toBe('SELECT * FROM media WHERE id = $1');
  // Comments go: an ORM's tag may carry a user's name.
  expect(kept('/* user=alice */ SELECT * FROM media WHERE id = $1 -- by alice').query).toBe(
    'SELECT * FROM media WHERE id = $1',
  );
  // Statements the normaliser leaves literals in: their first word and kind only.
  expect(kept("ALTER ROLE app SET app.key = 's3cret'").query).toBe('ALTER … (AlterRoleSetStmt, text not kept)');
  expect(kept("COMMENT ON TABLE media IS 's3cret'").query).toBe('COMMENT … (CommentStmt, text not kept)');
  expect(kept("CREATE VIEW v AS SELECT 's3cret' AS k").query).toBe('CREATE … (ViewStmt, text not kept)');
  const unparsed = kept("COPY 'hunter2 not sql", "unparsed:COPY 'hunter2 not sql");
  expect(unparsed.query).toBe('COPY … (not parsed)');
  expect(unparsed.fingerprint).toMatch(/^unparsed:[0-9a-f]{16}$/);
  expect(JSON.stringify(unparsed)).not.toContain('hunter2');
});

test('plannable: one statement PREPARE takes, a leading comment or a WITH included; never two, never a utility', () => {
  expect(isPlannable('/* controller=media */ SELECT * FROM media WHERE id = $1')).toBe(true);
  expect(isPlannable('WITH gone AS (DELETE FROM t WHERE id = $1 RETURNING *) SELECT count(*) FROM gone')).toBe(true);
  expect(isPlannable('UPDATE t SET a = $1 WHERE id = $2')).toBe(true);
  expect(isPlannable('SELECT 1; DROP TABLE t')).toBe(false);
  for (const utility of ['ROLLBACK', 'BEGIN', 'SET search_path = $1', 'CALL f($1)', 'not sql at all'])
    expect(isPlannable(utility)).toBe(false);
});

const statement = (fingerprint: string, buffersPerCall: number, plan?: string[]): TopStatement => ({
  fingerprint,
  query: `SELECT ${fingerprint} FROM t`,
  calls: 10,
  totalMs: 10,
  meanMs: 1,
  buffersPerCall,
  rowsPerCall: 1,
  ...(plan ? { plan } : {}),
});
const options = { buffersTolerance: 0.5, buffersMin: 8, newMinShare: 0.05 };

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
    'SELECT a FROM t buffers',
    'SELECT a FROM t plan',
    'SELECT b FROM t buffers',
    'SELECT c FROM t new',
  ]);
  expect(changes[1]!.evidence).toBe('plan Limit > Index Scan on media → Limit > Sort > Seq Scan on media');
  expect(changes[3]!.evidence).toMatch(/^new in the top 3 \(rank 3, 10 ms over 10 calls; not among the baseline's 2\)/);
});

test('new in the top but below the share that matters, or a statement with no plan: not a change', () => {
  const before = [statement('a', 4)];
  const now = [
    statement('a', 4),
    { ...statement('small', 1), share: 0.01 },
    { ...statement('rollback', 0), query: 'ROLLBACK', share: 0.3 },
    { ...statement('big', 1), share: 0.05 },
  ];
  expect(compareTopStatements(now, before, options).map((c) => c.query)).toEqual(['SELECT big FROM t']);
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
