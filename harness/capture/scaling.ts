import { queryRows, withClient } from '../pg/client.ts';
import { redact } from '../redact.ts';
import { loadParser } from './fingerprint.ts';
import { actAs, isPlannable, ROLE_SEARCH_PATH_SQL } from './top-statements.ts';
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
  /** Shared buffers hit or read per statement execution, averaged over the statements fitted (see `fitLadder`). */
  buffersPerExecution: number;
  /** The statements that ran here; those that failed (a table the app made at start, say) are counted apart. */
  statements: number;
  failed: number;
  /** The first failure's message, redacted. */
  firstFailure?: string;
}

/** One statement at one size: its buffers and rows out, or why it failed. */
export type StatementRun = { buffers: number; rows: number } | { error: string };

/** A size of the ladder as measured: the rows of the tables read, each statement's run in order. */
export interface MeasuredRung {
  scale: number;
  rows: number;
  runs: StatementRun[];
}

/** The ladder fitted: a rung per size, the slope, and why a statement was left out or the fit refused. */
export interface LadderFit {
  rungs: ScalingRung[];
  /** Null when it cannot be judged: a statement that ran at some sizes and failed at others (a scan past its time-out at the largest), or nothing that ran at every size. */
  slope: number | null;
  /** What the evidence says beside the figures. */
  notes: string[];
}

/**
 * The statements compared size by size: one that failed at every size (a table the app makes
 * itself, which the seeded data set lacks) is left out, said so; one that failed at some sizes
 * only makes the fit unjudgeable (the failure is the finding: a scan that ran out of time at the
 * largest size must not pass by dropping out); one that returned rows at some sizes and none at
 * others (an id the smaller data set lacks) is not comparable and left out. The rest are averaged
 * per size and fitted.
 */
export function fitLadder(measured: readonly MeasuredRung[]): LadderFit {
  const count = Math.max(0, ...measured.map((m) => m.runs.length));
  const notes: string[] = [];
  const kept: number[] = [];
  let partialFailure: string | undefined;
  for (let i = 0; i < count; i++) {
    const runs = measured.map((m) => m.runs[i]);
    const errors = runs.flatMap((r) => (r && 'error' in r ? [r.error] : []));
    if (errors.length === runs.length) {
      notes.push(`statement ${i + 1} failed at every size, left out (${errors[0]})`);
      continue;
    }
    if (errors.length > 0) {
      const at = measured.find((m) => {
        const r = m.runs[i];
        return r && 'error' in r;
      })!;
      partialFailure ??= `statement ${i + 1} failed at scale ${at.scale} and ran at the others (${errors[0]})`;
      continue;
    }
    const rows = runs.map((r) => (r && 'rows' in r ? r.rows : 0));
    if (rows.some((n) => n === 0) && rows.some((n) => n > 0)) {
      notes.push(
        `statement ${i + 1} returned rows at some sizes and none at others (an id the smaller data set lacks), left out`,
      );
      continue;
    }
    kept.push(i);
  }
  const rungs = measured.map((m) => {
    const failures = m.runs.flatMap((r) => (r && 'error' in r ? [r.error] : []));
    const buffers = kept.map((i) => (m.runs[i] as { buffers: number }).buffers);
    return {
      scale: m.scale,
      rows: m.rows,
      buffersPerExecution: buffers.length
        ? Math.round((buffers.reduce((a, b) => a + b, 0) / buffers.length) * 10) / 10
        : 0,
      statements: m.runs.length - failures.length,
      failed: failures.length,
      ...(failures[0] ? { firstFailure: failures[0] } : {}),
    };
  });
  if (partialFailure) return { rungs, slope: null, notes: [partialFailure, ...notes] };
  if (kept.length === 0) return { rungs, slope: null, notes: ['no statement ran comparably at every size', ...notes] };
  return { rungs, slope: logLogSlope(rungs), notes };
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
  'Actual Rows'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: ExplainNode[];
}

function relationsOf(node: ExplainNode, into: Set<string>): Set<string> {
  if (node['Relation Name']) into.add(node['Relation Name']);
  for (const child of node.Plans ?? []) relationsOf(child, into);
  return into;
}

/**
 * The indexes the app made on its tables (at its start, by a migration) that the freshly seeded
 * `toUrl` lacks, made there too, then ANALYZE: the ladder's databases plan as the app's does.
 * Indexes on tables the seeded database does not have are left out.
 */
export async function copyAppIndexes(fromUrl: string, toUrl: string): Promise<string[]> {
  const wanted = await queryRows<{ tablename: string; indexname: string; indexdef: string }>(
    fromUrl,
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
  );
  return withClient(toUrl, async (to) => {
    const present = await to.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'",
    );
    const tables = new Set(
      (await to.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind IN ('r', 'p')")).rows.map(
        (r) => r.relname,
      ),
    );
    const have = new Set(present.rows.map((r) => r.indexname));
    const made: string[] = [];
    for (const index of wanted) {
      if (have.has(index.indexname) || !tables.has(index.tablename)) continue;
      await to.query(index.indexdef);
      made.push(index.indexname);
    }
    await to.query('ANALYZE');
    return made;
  });
}

/**
 * Runs each statement once under EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) on `url`, each in a
 * transaction rolled back (a write runs and is undone), as `role` with the search_path it logs
 * in with (row-level security and names resolved as the app's): the shared buffers it touched
 * (hit or read alike, so a cold cache counts the same as a warm one), its rows out, and the rows
 * of the tables the statements read.
 */
export async function measureRung(
  url: string,
  scale: number,
  role: string,
  executed: readonly ExecutedStatement[],
): Promise<MeasuredRung> {
  await loadParser();
  const statements = executed.filter((s) => isPlannable(s.text));
  return withClient(url, async (client) => {
    await client.query('SET pg_stat_statements.track = none').catch(() => {});
    const { rows: paths } = await client.query<{ search_path: string }>(ROLE_SEARCH_PATH_SQL, [role]);
    const searchPath = paths[0]?.search_path ?? null;
    const runs: StatementRun[] = [];
    const relations = new Set<string>();
    for (const s of statements) {
      try {
        await client.query('BEGIN');
        await client.query("SET LOCAL statement_timeout = '30s'");
        await actAs(client, role, searchPath);
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: ExplainNode }] }>(
          `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ${s.text}`,
          s.params,
        );
        const plan = rows[0]!['QUERY PLAN'][0].Plan;
        // The top node's counts include its children's.
        runs.push({
          buffers: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0),
          rows: plan['Actual Rows'] ?? 0,
        });
        relationsOf(plan, relations);
      } catch (error) {
        runs.push({ error: redact((error as Error).message) });
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
    return { scale, rows: Math.round(rows[0]!.rows), runs };
  });
}

/** One line for a verdict's evidence: the work per execution at each size. */
export function describeScaling({ rungs, slope, notes }: LadderFit): string {
  const sizes = rungs
    .map((r) => `${r.buffersPerExecution} buffers at ${r.rows.toLocaleString('en-US')} rows (scale ${r.scale})`)
    .join(', ');
  return `shared buffers per execution ${sizes}: log–log slope ${slope ?? 'not judged'}${notes.length ? `; ${notes.join('; ')}` : ''}`;
}
