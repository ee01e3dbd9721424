import { createHash } from 'node:crypto';
import { parseSync } from 'libpg-query';
import pg from 'pg';
import { queryShape } from './fingerprint.ts';
import type { QueryEvent } from './types.ts';

/**
 * The statements that cost a load the most (issue 16, "top statements regression"): by total
 * execution time in pg_stat_statements while a scenario ran, summed over the nodes, each with
 * its shared buffers per call and the shape of its generic plan. Kept in the load's result,
 * so the next gate compares them with the baseline's: a statement new in the top N, one that
 * touches many more buffers per call, or one whose plan changed shape.
 */
export interface TopStatement {
  /** libpg_query's fingerprint: the same statement whatever its constants, across runs (a queryid is not: it hashes table OIDs). */
  fingerprint: string;
  /**
   * Once kept (`forTheRecord`): normalised by libpg_query, every constant as $n, so no value
   * the app sent, also where pg_stat_statements kept a utility statement's literals (SET, CALL,
   * DO). Before that, pg_stat_statements' own text, which is what PREPARE needs.
   */
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  /** Its share of the time of every statement the load ran (0–1): a "new" one counts only past `newMinShare`. */
  share?: number;
  /** Shared buffers hit or read per call: the work a statement does, whatever the machine's speed. */
  buffersPerCall: number;
  rowsPerCall: number;
  /**
   * The generic plan's nodes in tree order, a scan with its table (`Index Scan on media`):
   * absent where no plan could be made (not a SELECT/INSERT/UPDATE/DELETE, or a parameter
   * whose type Postgres cannot infer).
   */
  plan?: string[];
}

/** The `count` statements of the largest total time, one per fingerprint over every node. */
export function topStatementsOf(events: readonly QueryEvent[], count: number): TopStatement[] {
  const allMs = events.reduce((sum, e) => sum + Math.max(0, e.durationMs), 0);
  const byShape = new Map<string, { query: string; calls: number; totalMs: number; buffers: number; rows: number }>();
  for (const event of events) {
    const shape = byShape.get(event.fingerprint) ?? { query: event.sql, calls: 0, totalMs: 0, buffers: 0, rows: 0 };
    shape.calls += event.calls;
    shape.totalMs += event.durationMs;
    shape.buffers += event.buffers ?? 0;
    shape.rows += event.rows;
    byShape.set(event.fingerprint, shape);
  }
  return (
    [...byShape.entries()]
      .filter(([, s]) => s.calls > 0)
      // Ties broken by fingerprint: the same load ranks the same way in every run.
      .sort(([fa, a], [fb, b]) => b.totalMs - a.totalMs || fa.localeCompare(fb))
      .slice(0, count)
      .map(([fingerprint, s]) => ({
        fingerprint,
        query: s.query,
        calls: s.calls,
        totalMs: round(s.totalMs),
        meanMs: round(s.totalMs / s.calls),
        share: allMs > 0 ? round(s.totalMs / allMs) : 0,
        buffersPerCall: round(s.buffers / s.calls),
        rowsPerCall: round(s.rows / s.calls),
      }))
  );
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The statements PREPARE takes, so whose plan can be asked for without running them. */
const PLANNABLE_KINDS = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/**
 * Whether `query` is one statement PREPARE takes (by the Postgres parser: a leading comment,
 * a WITH or VALUES is still a SELECT; `SELECT 1; DROP …` is two, so never). Transaction
 * control, SET, CALL and the like are not: they have no plan, and are not counted "new".
 */
export function isPlannable(query: string): boolean {
  try {
    const stmts = parseSync(query).stmts ?? [];
    return stmts.length === 1 && Object.keys(stmts[0]?.stmt ?? {}).some((kind) => PLANNABLE_KINDS.has(kind));
  } catch {
    return false;
  }
}

/**
 * Statements whose every value libpg_query's normaliser replaces by `$n`: the plannable ones,
 * and these utilities. Others keep literals through it (`ALTER ROLE … SET x = 's3cret'`,
 * `COMMENT ON … IS '…'`, `CREATE VIEW … AS SELECT '…'`), so only their kind is kept.
 */
const NORMALISED_UTILITIES = new Set([
  'TransactionStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'CallStmt',
  'DoStmt',
  'DiscardStmt',
  'DeallocateStmt',
]);

/** The statement's kind by the parser (`SelectStmt`, `VariableSetStmt`), undefined when it is not exactly one statement. */
function kindOf(query: string): string | undefined {
  try {
    const stmts = parseSync(query).stmts ?? [];
    return stmts.length === 1 ? Object.keys(stmts[0]?.stmt ?? {})[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Comments go too: a value may sit in one (a user name in an ORM tag); normalised text holds no string literal to cut. */
const withoutComments = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * A statement as results and the baseline keep it: normalised by the Postgres parser (every
 * constant `$n`; pg_stat_statements keeps a utility statement's literals as sent: `SET app.key
 * = 's3cret'`), comments removed, and redacted. A statement the normaliser leaves literals in
 * is kept as its first word and kind only; text the parser cannot read, as its first word,
 * its `unparsed:` fingerprint hashed (it is the text).
 */
export function forTheRecord(statement: TopStatement, redact: (text: string) => string): TopStatement {
  const fingerprint = statement.fingerprint.startsWith('unparsed:')
    ? `unparsed:${createHash('sha256').update(statement.fingerprint).digest('hex').slice(0, 16)}`
    : statement.fingerprint;
  const firstWord = statement.query.trim().split(/\s+/)[0] ?? '';
  const { normalized, fingerprint: parsed } = queryShape(statement.query);
  const kind = kindOf(statement.query);
  const query = parsed.startsWith('unparsed:')
    ? `${firstWord} … (not parsed)`
    : kind && (PLANNABLE_KINDS.has(kind) || NORMALISED_UTILITIES.has(kind))
      ? withoutComments(normalized)
      : `${withoutComments(firstWord)} … (${kind ?? 'several statements'}, text not kept)`;
  return { ...statement, fingerprint, query: redact(query) };
}

/**
 * The search_path `role` logs into `adminUrl`'s database with (ALTER ROLE … [IN DATABASE …]
 * SET search_path), null when none is set. SET ROLE does not apply it: only a login does.
 * Precedence as at login: the role in this database, the role, then the database.
 */
export const ROLE_SEARCH_PATH_SQL = `SELECT substr(c, length('search_path=') + 1) AS search_path
  FROM pg_db_role_setting s, unnest(s.setconfig) c
 WHERE s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = $1))
   AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
   AND c LIKE 'search_path=%'
 ORDER BY (s.setrole <> 0)::int * 2 + (s.setdatabase <> 0)::int DESC
 LIMIT 1`;

/**
 * The shape of each statement's generic plan, on `adminUrl` (the app's database, a superuser)
 * as the app's `role`, with the search_path it logs in with: PREPARE, then EXPLAIN EXECUTE with every parameter
 * NULL under `plan_cache_mode = force_generic_plan`, the plan Postgres 15 makes for any
 * value (EXPLAIN (GENERIC_PLAN) is Postgres 16's). Nothing is executed (no ANALYZE), all in
 * a transaction rolled back.
 */
export async function withPlanShapes(
  adminUrl: string,
  role: string,
  statements: readonly TopStatement[],
): Promise<TopStatement[]> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('SET pg_stat_statements.track = none').catch(() => {});
    const { rows } = await client.query<{ search_path: string }>(ROLE_SEARCH_PATH_SQL, [role]);
    const searchPath = rows[0]?.search_path ?? null;
    const shaped: TopStatement[] = [];
    for (const statement of statements) {
      // One statement PREPARE takes, by the parser: the text is interpolated below, so never two.
      const plan = isPlannable(statement.query)
        ? await planShape(client, role, searchPath, statement.query)
        : undefined;
      shaped.push(plan ? { ...statement, plan } : statement);
    }
    return shaped;
  } finally {
    await client.end().catch(() => {});
  }
}

async function planShape(
  client: pg.Client,
  role: string,
  searchPath: string | null,
  query: string,
): Promise<string[] | undefined> {
  const parameters = Math.max(0, ...[...query.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  try {
    await client.query('BEGIN');
    await actAs(client, role, searchPath);
    await client.query("SET LOCAL statement_timeout = '5s'");
    await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE dbproof_top_statement AS ${query}`);
    const args = parameters ? `(${Array.from({ length: parameters }, () => 'NULL').join(', ')})` : '';
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE dbproof_top_statement${args}`,
    );
    return shapeOf(rows[0]!['QUERY PLAN'][0].Plan);
  } catch {
    // A parameter of a type Postgres cannot infer, a statement that needs a session's state: no shape, said as such.
    return undefined;
  } finally {
    // The prepared statement goes with the rollback's session state only if deallocated.
    await client.query('ROLLBACK').catch(() => {});
    await client.query('DEALLOCATE ALL').catch(() => {});
  }
}

/**
 * Inside a transaction: the rest of it as `role`, with the search_path it logs in with (asked
 * beforehand with ROLE_SEARCH_PATH_SQL): row-level security and name resolution as the app's.
 */
export async function actAs(client: pg.Client, role: string, searchPath: string | null): Promise<void> {
  await client.query(`SET LOCAL ROLE ${pg.escapeIdentifier(role)}`);
  if (searchPath !== null) await client.query("SELECT set_config('search_path', $1, true)", [searchPath]);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The plan's nodes in tree order (depth first), a scan with its table. */
export function shapeOf(node: PlanNode): string[] {
  const own = node['Relation Name'] ? `${node['Node Type']} on ${node['Relation Name']}` : node['Node Type'];
  return [own, ...(node.Plans ?? []).flatMap(shapeOf)];
}

/** What changed in a load's top statements since the baseline's. */
export interface StatementChange {
  kind: 'new' | 'buffers' | 'plan';
  query: string;
  /** One line: what it was and what it is. */
  evidence: string;
}

export interface StatementComparisonOptions {
  /** Buffers per call may grow by this share (0.5: +50 %) before it is a change. */
  buffersTolerance: number;
  /** Nor by fewer than this many buffers per call (a lookup's 3 → 5 is noise, not a scan). */
  buffersMin: number;
  /**
   * A statement new in the top counts only when it took at least this share of the load's
   * statement time (0.05: 5 %): past the few that matter, the ranking is noise (a type lookup,
   * a ROLLBACK the pool sent) that a quiet run may not repeat.
   */
  newMinShare: number;
}

/**
 * The changes from `before` (the baseline's top statements of the same scenario) to `now`: a
 * plannable statement in the top now and not before (past `newMinShare`); one whose buffers per call grew beyond the
 * tolerance; one whose generic plan's shape differs (both known).
 */
export function compareTopStatements(
  now: readonly TopStatement[],
  before: readonly TopStatement[],
  options: StatementComparisonOptions,
): StatementChange[] {
  const earlier = new Map(before.map((s) => [s.fingerprint, s]));
  const changes: StatementChange[] = [];
  now.forEach((statement, rank) => {
    const was = earlier.get(statement.fingerprint);
    if (!was) {
      // Transaction control, SET and the like have no plan to regress: their place in the ranking is the pool's.
      if ((statement.share ?? 1) < options.newMinShare || !isPlannable(statement.query)) return;
      changes.push({
        kind: 'new',
        query: statement.query,
        evidence: `new in the top ${now.length} (rank ${rank + 1}, ${statement.totalMs} ms over ${statement.calls} calls; not among the baseline's ${before.length})`,
      });
      return;
    }
    const grown = statement.buffersPerCall - was.buffersPerCall;
    if (grown >= options.buffersMin && statement.buffersPerCall > was.buffersPerCall * (1 + options.buffersTolerance))
      changes.push({
        kind: 'buffers',
        query: statement.query,
        evidence: `${was.buffersPerCall} → ${statement.buffersPerCall} shared buffers per call (more than +${Math.round(options.buffersTolerance * 100)} %)`,
      });
    if (statement.plan && was.plan && statement.plan.join(' > ') !== was.plan.join(' > '))
      changes.push({
        kind: 'plan',
        query: statement.query,
        evidence: `plan ${was.plan.join(' > ')} → ${statement.plan.join(' > ')}`,
      });
  });
  return changes;
}
