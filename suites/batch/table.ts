import pg from 'pg';
import { UsageError } from '../../harness/errors.ts';
import type { BadKind, Endpoint } from './options.ts';

/** `schema.table` or `table`, each part quoted. */
const quoted = (name: string) => name.split('.').map(pg.escapeIdentifier).join('.');

/** What in a table's definition can refuse an item of each kind. */
const CAN_REFUSE: Record<BadKind, string> = {
  unique: 'unique index or constraint',
  foreignKey: 'foreign key',
  check: 'CHECK constraint',
  tooLong: 'column with a length limit (varchar(n), char(n))',
};

const CATALOGUE_SQL = `
  WITH t AS (SELECT to_regclass($1::text) AS oid)
  SELECT t.oid IS NOT NULL AS exists,
    EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped) AS "keyColumn",
    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t.oid AND i.indisunique) AS "unique",
    EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'f') AS "foreignKey",
    EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'c') AS "check",
    EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
            AND a.atttypmod > 0 AND a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype)) AS "tooLong"
  FROM t`;

/**
 * Refuses, before anything is sent, a table that is not there, a key column it lacks, or a
 * kind of bad item its definition cannot refuse (an item meant to be bad would be stored).
 */
export async function checkTable(
  client: pg.Client,
  endpoint: Endpoint,
  kinds: readonly BadKind[],
  database: string,
): Promise<void> {
  const where = `batch-fallback: ${endpoint.request}`;
  const { rows } = await client.query<Record<'exists' | 'keyColumn' | BadKind, boolean>>(CATALOGUE_SQL, [
    endpoint.table,
    endpoint.keyColumn,
  ]);
  const table = rows[0]!;
  if (!table.exists)
    throw new UsageError(`${where}: there is no table ${endpoint.table} in database ${database}; set its table`);
  if (!table.keyColumn)
    throw new UsageError(`${where}: table ${endpoint.table} has no column ${endpoint.keyColumn}; set its keyColumn`);
  const impossible = kinds.filter((kind) => !table[kind]);
  if (impossible.length > 0)
    throw new UsageError(
      `${where}: table ${endpoint.table} cannot refuse a bad item of kind ${impossible.join(', ')} (it has no ${impossible.map((k) => CAN_REFUSE[k]).join(', no ')}); leave ${impossible.length > 1 ? 'them' : 'it'} out of kinds`,
    );
}

/** How many rows of the table hold each key (keys with none are absent). */
export async function rowsByKey(client: pg.Client, endpoint: Endpoint, keys: string[]): Promise<Map<string, number>> {
  const column = pg.escapeIdentifier(endpoint.keyColumn);
  const { rows } = await client.query<{ key: string; n: number }>(
    `SELECT ${column}::text AS key, count(*)::int AS n FROM ${quoted(endpoint.table)} WHERE ${column} = ANY($1) GROUP BY 1`,
    [keys],
  );
  return new Map(rows.map((r) => [r.key, r.n]));
}
