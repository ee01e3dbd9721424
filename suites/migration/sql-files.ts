import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadModule, parseSync } from 'libpg-query';
import { UsageError } from '../../harness/errors.ts';

/** One statement of a migration file, as it will be sent. */
export interface MigrationStatement {
  /** The file it came from (its name) and its place in it (1-based). */
  file: string;
  index: number;
  sql: string;
  /** The parser's node type, e.g. `AlterTableStmt`, `IndexStmt`, `VariableSetStmt`. */
  kind: string;
  /**
   * Whether dbproof may wrap it in a transaction of its own to read what it did (its
   * locks, scans and rewrites) before it commits: not for statements Postgres refuses in a
   * transaction block (CREATE INDEX CONCURRENTLY, VACUUM, …), nor for the file's own
   * BEGIN/COMMIT, nor inside the file's own transaction (which is read as it stands).
   */
  wrappable: boolean;
  /** BEGIN/START TRANSACTION (1), COMMIT/ROLLBACK (-1), anything else (0). */
  transaction: 1 | -1 | 0;
}

/** Node types Postgres runs only outside a transaction block (with their `concurrent` flag where they have one). */
function outsideTransactionOnly(kind: string, node: Record<string, unknown>): boolean {
  if (kind === 'IndexStmt' || kind === 'DropStmt') return node.concurrent === true;
  if (kind === 'ReindexStmt') return JSON.stringify(node.params ?? []).includes('"concurrently"');
  return ['VacuumStmt', 'CreatedbStmt', 'DropdbStmt', 'AlterSystemStmt', 'CreateTableSpaceStmt'].includes(kind);
}

/** Splits one file's SQL into statements by the Postgres parser's own locations (bytes, not characters). */
export async function splitStatements(sql: string, file: string): Promise<MigrationStatement[]> {
  await loadModule();
  let parsed: { stmts: { stmt: Record<string, Record<string, unknown>>; stmt_location?: number; stmt_len?: number }[] };
  try {
    parsed = parseSync(sql) as unknown as typeof parsed;
  } catch (error) {
    throw new UsageError(`migration ${file} is not valid SQL: ${(error as Error).message.split('\n')[0]}`);
  }
  const bytes = Buffer.from(sql, 'utf8');
  let inTransaction = false;
  return (parsed.stmts ?? []).map((entry, i) => {
    const start = entry.stmt_location ?? 0;
    const text = bytes
      .subarray(start, entry.stmt_len ? start + entry.stmt_len : bytes.length)
      .toString('utf8')
      .trim();
    const kind = Object.keys(entry.stmt)[0]!;
    const node = entry.stmt[kind] ?? {};
    const txKind = kind === 'TransactionStmt' ? String(node.kind) : '';
    const transaction = /BEGIN|START/.test(txKind) ? 1 : /COMMIT|ROLLBACK/.test(txKind) ? -1 : 0;
    const wrappable = transaction === 0 && !inTransaction && !outsideTransactionOnly(kind, node);
    if (transaction === 1) inTransaction = true;
    if (transaction === -1) inTransaction = false;
    return { file, index: i + 1, sql: text, kind, wrappable, transaction };
  });
}

/** The folder's `.sql` files in name order; a folder that is missing or holds none is refused (checked when the run is planned). */
export function migrationFiles(folder: string): string[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new UsageError(
      `invalid option suites.migration-rehearsal.migrations: no such folder ${folder}; give the folder of your .sql migrations (relative to the config)`,
    );
  const files = readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  if (files.length === 0)
    throw new UsageError(
      `invalid option suites.migration-rehearsal.migrations: ${folder} holds no .sql file; a rehearsal needs at least one migration`,
    );
  return files;
}

/**
 * A folder of migrations: its `.sql` files in name order (001_…, 002_…), each split into
 * statements. A folder that is missing or holds no `.sql` file is a UsageError: a rehearsal
 * of nothing would pass.
 */
export async function readMigrations(folder: string): Promise<MigrationStatement[]> {
  const files = migrationFiles(folder);
  const statements: MigrationStatement[] = [];
  for (const file of files)
    statements.push(...(await splitStatements(readFileSync(path.join(folder, file), 'utf8'), file)));
  if (statements.length === 0)
    throw new UsageError(
      `invalid option suites.migration-rehearsal.migrations: the .sql files in ${folder} hold no statement`,
    );
  return statements;
}
