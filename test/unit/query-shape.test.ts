// Statement shapes by the real Postgres parser: constants and IN-list lengths do not make
// a new shape; a statement the parser cannot read still gets a shape of its own.
import { beforeAll, expect, test } from 'vitest';
import { loadParser, queryShape } from '../../harness/capture/fingerprint.ts';

beforeAll(() => loadParser());

test.each([
  ['constants', 'SELECT * FROM t WHERE id = 1', 'SELECT * FROM t WHERE id = 2'],
  ['a placeholder and a constant', 'SELECT * FROM t WHERE id = $1', 'SELECT * FROM t WHERE id = 42'],
  ['IN lists of different lengths', 'SELECT * FROM t WHERE id IN (1, 2)', 'SELECT * FROM t WHERE id IN (1, 2, 3)'],
  ['case and whitespace', 'select *   from t where id = 1', 'SELECT * FROM t WHERE id = 7'],
])('%s give one shape', (_, a, b) => {
  expect(queryShape(a).fingerprint).toBe(queryShape(b).fingerprint);
});

test.each([
  ['another table', 'SELECT * FROM t WHERE id = 1', 'SELECT * FROM u WHERE id = 1'],
  ['another column', 'SELECT * FROM t WHERE id = 1', 'SELECT * FROM t WHERE owner = 1'],
  ['another statement', 'SELECT 1 FROM t', 'DELETE FROM t'],
])('%s is another shape', (_, a, b) => {
  expect(queryShape(a).fingerprint).not.toBe(queryShape(b).fingerprint);
});

test('the normalized text has its constants replaced by $n', () => {
  expect(queryShape("SELECT * FROM t WHERE id = 1 AND name = 'x'").normalized).toBe(
    'SELECT * FROM t WHERE id = $1 AND name = $2',
  );
});

test('a statement the parser cannot read is counted under its own text, never merged', () => {
  const broken = queryShape('SELEC oops');
  expect(broken.fingerprint).toBe('unparsed:SELEC oops');
  expect(queryShape('SELEC other').fingerprint).not.toBe(broken.fingerprint);
});
