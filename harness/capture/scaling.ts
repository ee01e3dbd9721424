import pg from 'pg';
import { InfrastructureError } from '../errors.ts';
import { redact } from '../redact.ts';
import { isPlannable } from './top-statements.ts';
import type { ExecutedStatement } from './server-log.ts';

/**
 * "Stays fast as the data grows": an endpoint's statements (as the app ran them, with their
 * parameters) run again on the same data set at several sizes, each under EXPLAIN (ANALYZE,
 * BUFFERS), and the shared buffers one execution touches fitted against the rows of the tables
 * it reads, on log–log axes. An index lookup stays flat (slope ≈ 0); a scan grows with its table
 * (≈ 1); a sort of a whole table a little more. Buffers, not time: the work a plan does is the
 * same on a busy machine and a quiet one, so the verdict is too.
 */

/** One size of the ladder: the work per execution there, and the rows of the tables it read. */
export interface ScalingRung {
  /** The data set's scale this rung was seeded at. */
  scale: number;
  /** Rows of the tables the statements' plans read, summed (pg_class.reltuples after ANALYZE). */
  rows: number;
  /** Shared buffers hit or read per statement execution, averaged over the statements. */
  buffersPerExecution: number;
  /** The statements that ran here; those that failed (a table the app made at start, say) are counted apart. */
  statements: number;
  failed: number;
  /** The first failure's message, redacted. */
  firstFailure?: string;
}

/** The least-squares slope of ln(buffers) against ln(rows); null with fewer than two distinct sizes. */
export function logLogSlope(rungs: readonly Pick<ScalingRung, 'rows' | 'buffersPerExecution'>[]): number | null {
  const points = rungs
    .filter((r) => r.rows > 0)
    .map((r) => ({ x: Math.log(r.rows), y: Math.log(Math.max(r.buffersPerExecution, 1)) }));
  if (new Set(points.map((p) => p.x)).size < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return Math.round((sxy / sxx) * 1000) / 1000;
}

interface ExplainNode {
  'Relation Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: ExplainNode[];
}

function relationsOf(node: ExplainNode, into: Set<string>): Set<string> {
  if (node['Relation Name']) into.add(node['Relation Name']);
  for (const child of node.Plans ?? []) relationsOf(child, into);
  return into;
}

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new InfrastructureError(`could not connect to ${redact(url)}: ${redact(String(error))}`, error);
  }
  return client;
}

/**
 * The indexes the app made on its tables (at its start, by a migration) that the freshly seeded
 * `toUrl` lacks, made there too, then ANALYZE: the ladder's databases plan as the app's does.
 * Indexes on tables the seeded database does not have are left out.
 */
export async function copyAppIndexes(fromUrl: string, toUrl: string): Promise<string[]> {
  const from = await connected(fromUrl);
  const to = await connected(toUrl);
  try {
    const wanted = await from.query<{ tablename: string; indexname: string; indexdef: string }>(
      "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    );
    const present = await to.query<{ tablename: string; indexname: string }>(
      "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'",
    );
    const tables = new Set(
      (await to.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind IN ('r', 'p')")).rows.map(
        (r) => r.relname,
      ),
    );
    const have = new Set(present.rows.map((r) => r.indexname));
    const made: string[] = [];
    for (const index of wanted.rows) {
      if (have.has(index.indexname) || !tables.has(index.tablename)) continue;
      await to.query(index.indexdef);
      made.push(index.indexname);
    }
    await to.query('ANALYZE');
    return made;
  } finally {
    await Promise.all([from.end().catch(() => {}), to.end().catch(() => {})]);
  }
}

/**
 * Runs each statement once under EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) on `url`, each in a
 * transaction rolled back (a write runs and is undone): the shared buffers per execution (hit
 * or read alike, so a cold cache counts the same as a warm one) and the rows of the tables read.
 */
export async function measureRung(
  url: string,
  scale: number,
  executed: readonly ExecutedStatement[],
): Promise<ScalingRung> {
  const statements = executed.filter((s) => isPlannable(s.text));
  const client = await connected(url);
  try {
    await client.query('SET pg_stat_statements.track = none').catch(() => {});
    let buffers = 0;
    let ran = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    const relations = new Set<string>();
    for (const s of statements) {
      try {
        await client.query('BEGIN');
        await client.query("SET LOCAL statement_timeout = '30s'");
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: ExplainNode }] }>(
          `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ${s.text}`,
          s.params,
        );
        const plan = rows[0]!['QUERY PLAN'][0].Plan;
        // The top node's counts include its children's.
        buffers += (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
        relationsOf(plan, relations);
        ran++;
      } catch (error) {
        failed++;
        firstFailure ??= redact((error as Error).message);
      } finally {
        await client.query('ROLLBACK').catch(() => {});
      }
    }
    const { rows } = relations.size
      ? await client.query<{ rows: number }>(
          "SELECT coalesce(sum(greatest(reltuples, 0)), 0)::float8 AS rows FROM pg_class WHERE relname = ANY($1::text[]) AND relkind IN ('r', 'p', 'm')",
          [[...relations]],
        )
      : { rows: [{ rows: 0 }] };
    return {
      scale,
      rows: Math.round(rows[0]!.rows),
      buffersPerExecution: ran ? Math.round((buffers / ran) * 10) / 10 : 0,
      statements: ran,
      failed,
      ...(firstFailure ? { firstFailure } : {}),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** One line for a verdict's evidence: the work per execution at each size. */
export function describeScaling(rungs: readonly ScalingRung[], slope: number | null): string {
  const sizes = rungs
    .map((r) => `${r.buffersPerExecution} buffers at ${r.rows.toLocaleString('en-US')} rows (scale ${r.scale})`)
    .join(', ');
  const failed = rungs.reduce((n, r) => n + r.failed, 0);
  const failure = rungs.find((r) => r.firstFailure)?.firstFailure;
  return `shared buffers per execution ${sizes}: log–log slope ${slope ?? 'unknown'}${failed ? `; ${failed} statement run(s) failed (${failure})` : ''}`;
}
