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

/**
 * Statements Postgres runs only outside a transaction block (PostgreSQL 15's reference pages):
 * dbproof must not wrap them. A statement missed here is not lost: one refused in dbproof's
 * transaction (SQLSTATE 25001) is run again unwrapped (statement-facts.ts).
 */
function outsideTransactionOnly(kind: string, node: Record<string, unknown>): boolean {
  if (kind === 'IndexStmt' || kind === 'DropStmt') return node.concurrent === true;
  if (kind === 'ReindexStmt')
    return (
      JSON.stringify(node.params ?? []).includes('"concurrently"') ||
      ['REINDEX_OBJECT_DATABASE', 'REINDEX_OBJECT_SYSTEM', 'REINDEX_OBJECT_SCHEMA'].includes(String(node.kind))
    );
  // CLUSTER with no table reclusters every table the user owns, each in a transaction of its own.
  if (kind === 'ClusterStmt') return node.relation === undefined;
  if (kind === 'AlterDatabaseStmt') return JSON.stringify(node.options ?? []).includes('"tablespace"');
  if (kind === 'DiscardStmt') return node.target === 'DISCARD_ALL';
  if (kind === 'VacuumStmt') return node.is_vacuumcmd === true; // ANALYZE alone may run in a transaction
  return [
    'CreatedbStmt',
    'DropdbStmt',
    'AlterSystemStmt',
    'CreateTableSpaceStmt',
    'DropTableSpaceStmt',
    'CreateSubscriptionStmt',
    'DropSubscriptionStmt',
    'AlterSubscriptionStmt',
  ].includes(kind);
}

/** The file's own transaction: its BEGIN/START (1) and COMMIT/ROLLBACK/PREPARE TRANSACTION (-1); savepoints stay inside it. */
const TRANSACTION_EDGE: Record<string, 1 | -1> = {
  TRANS_STMT_BEGIN: 1,
  TRANS_STMT_START: 1,
  TRANS_STMT_COMMIT: -1,
  TRANS_STMT_ROLLBACK: -1,
  TRANS_STMT_PREPARE: -1,
};

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
    const transaction = kind === 'TransactionStmt' ? (TRANSACTION_EDGE[String(node.kind)] ?? 0) : 0;
    // SAVEPOINT, RELEASE, ROLLBACK TO and COMMIT/ROLLBACK PREPARED are never wrapped: they belong to a transaction.
    const wrappable =
      transaction === 0 && kind !== 'TransactionStmt' && !inTransaction && !outsideTransactionOnly(kind, node);
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
  for (const file of files) {
    const split = await splitStatements(readFileSync(path.join(folder, file), 'utf8'), file);
    const open = split.reduce((depth, s) => (s.transaction === 1 ? 1 : s.transaction === -1 ? 0 : depth), 0);
    if (open)
      throw new UsageError(
        `invalid option suites.migration-rehearsal.migrations: ${file} ends inside its own BEGIN (no COMMIT): a migration tool would roll it back; end it with COMMIT`,
      );
    statements.push(...split);
  }
  if (statements.length === 0)
    throw new UsageError(
      `invalid option suites.migration-rehearsal.migrations: the .sql files in ${folder} hold no statement`,
    );
  return statements;
}
