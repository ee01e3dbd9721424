import pg from 'pg';
import { InfrastructureError, UsageError } from '../errors.ts';
import { redact } from '../redact.ts';
import { Rng } from '../random/index.ts';
import type { ExecutedStatement } from './server-log.ts';
import { loadParser } from './fingerprint.ts';
import { isPlannable } from './top-statements.ts';

/**
 * "With the index, at least 30× faster than without": the statements an endpoint ran, timed
 * again with the index and without it. Without it means inside a transaction that drops the
 * index and rolls back, so the index is never gone for anyone else (its table is locked
 * meanwhile); with it runs in a transaction that rolls back too, so a write the endpoint made is
 * run again and undone on both sides alike. Each round times every statement both ways
 * (EXPLAIN ANALYZE's Execution Time, TIMING OFF: the server's own time, no network), the order
 * alternating; a first pass runs them plainly both ways, which warms the caches and gives
 * recall@k (the answer without the index is the exact one). The ratio's confidence
 * interval is a paired bootstrap over the rounds (seeded, a fixed number of resamples), and the
 * claim is judged on its lower bound.
 */

/** One round: the summed execution time of the statements with the index and without it. */
export interface SpeedUpRound {
  withMs: number;
  withoutMs: number;
}

export interface RatioInterval {
  /** Σ without / Σ with over every round. */
  ratio: number;
  lower: number;
  upper: number;
  resamples: number;
}

export interface SpeedUp extends RatioInterval {
  /** The index as Postgres names it, schema-qualified where needed. */
  index: string;
  table: string;
  statements: number;
  rounds: SpeedUpRound[];
  /**
   * recall@k: of the rows each statement returned without the index (the exact answer), the
   * share it also returned with it, averaged over the statements; 1 for an exact index (cube's
   * GiST), below for an approximate one (pgvector's HNSW) that misses neighbours.
   */
  recall: number;
  /** The statement that kept the least of the exact answer, and its recall. */
  worstRecall: { statement: string; recall: number } | undefined;
}

/** Resamples of the bootstrap: fixed, so a run is repeatable with its seed. */
export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * The 95 % interval of Σ without / Σ with, the rounds resampled in pairs (a round's two times
 * share the machine's state of that moment), from a seeded generator.
 */
export function bootstrapRatio(rounds: SpeedUpRound[], seed: number, resamples = BOOTSTRAP_RESAMPLES): RatioInterval {
  const ratioOf = (picked: SpeedUpRound[]) => {
    const without = picked.reduce((sum, r) => sum + r.withoutMs, 0);
    const withIndex = picked.reduce((sum, r) => sum + r.withMs, 0);
    return without / Math.max(withIndex, 1e-6);
  };
  const rng = new Rng(seed, 'speed-up bootstrap');
  const ratios = Array.from({ length: resamples }, () =>
    ratioOf(rounds.map(() => rounds[rng.int(0, rounds.length - 1)]!)),
  ).sort((a, b) => a - b);
  const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]!;
  return { ratio: ratioOf(rounds), lower: at(0.025), upper: at(0.975), resamples };
}

/** The index a claim names, looked up in the app's database; missing or not an index is bad input. */
export async function findIndex(
  url: string,
  index: string,
  where: string,
): Promise<{ index: string; table: string; constraint?: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ index: string; table: string; relkind: string; constraint: string | null }>(
      `SELECT c.oid::regclass::text AS index, i.indrelid::regclass::text AS table, c.relkind,
              (SELECT conname FROM pg_constraint WHERE conindid = c.oid LIMIT 1) AS constraint
         FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
        WHERE c.oid = to_regclass($1)`,
      [index],
    );
    const found = rows[0];
    if (!found || (found.relkind !== 'i' && found.relkind !== 'I'))
      throw new UsageError(
        `${where}: no index "${index}" in the app's database; name the index the endpoint's statements read (\\di lists them)`,
      );
    if (found.constraint)
      throw new UsageError(
        `${where}: index "${index}" backs the constraint ${found.constraint} and cannot be dropped for the comparison; name an index of its own`,
      );
    return { index: found.index, table: found.table };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new InfrastructureError(`could not look up index ${index} (${redact(url)}): ${redact(String(error))}`, error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs every statement under EXPLAIN ANALYZE and sums their Execution Time. */
async function timeStatements(client: pg.Client, statements: ExecutedStatement[]): Promise<number> {
  let total = 0;
  for (const s of statements) {
    const { rows } = await client.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(
      `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${s.text}`,
      s.params,
    );
    total += rows[0]!['QUERY PLAN'][0]['Execution Time'];
  }
  return total;
}

/** Each statement's rows, as JSON lines: what recall compares. */
async function answers(client: pg.Client, statements: ExecutedStatement[]): Promise<string[][]> {
  const all: string[][] = [];
  for (const s of statements) all.push((await client.query(s.text, s.params)).rows.map((r) => JSON.stringify(r)));
  return all;
}

/** `work` in a transaction that always rolls back; `dropIndex` is dropped first. */
async function rolledBack<T>(client: pg.Client, work: () => Promise<T>, dropIndex?: string): Promise<T> {
  await client.query('BEGIN');
  try {
    // The table stays locked while the index is gone: never wait long behind the app for it.
    await client.query("SET LOCAL lock_timeout = '5s'");
    if (dropIndex) await client.query(`DROP INDEX ${dropIndex}`);
    return await work();
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Of the rows in `exact`, the share `found` holds too (as multisets); 1 when `exact` is empty. */
export function recallOf(found: string[], exact: string[]): number {
  if (exact.length === 0) return 1;
  const left = new Map<string, number>();
  for (const row of found) left.set(row, (left.get(row) ?? 0) + 1);
  let kept = 0;
  for (const row of exact) {
    const n = left.get(row) ?? 0;
    if (n > 0) {
      kept++;
      left.set(row, n - 1);
    }
  }
  return kept / exact.length;
}

/**
 * The statements timed with `index` and without it, `repeats` rounds after one pass that compares their answers (recall@k).
 * `url` is the app's database as a role that may drop the index (the owner or a superuser).
 */
export async function measureSpeedUp(
  url: string,
  found: { index: string; table: string },
  executed: ExecutedStatement[],
  options: { repeats: number; seed: number },
): Promise<SpeedUp> {
  await loadParser();
  // One statement EXPLAIN ANALYZE can run, by the parser: a logged `SELECT …; COMMIT; DELETE …`
  // (the simple protocol) is three, and its COMMIT would end the rolled-back transaction.
  const statements = executed.filter((s) => isPlannable(s.text));
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    // dbproof's own timing stays out of pg_stat_statements, as the capture's statements do.
    await client.query('SET pg_stat_statements.track = none').catch(() => {});
    // The first pass compares the answers (and warms the caches): without the index is the exact answer.
    const withAnswers = await rolledBack(client, () => answers(client, statements));
    const exactAnswers = await rolledBack(client, () => answers(client, statements), found.index);
    const recalls = statements.map((s, i) => ({
      statement: s.text,
      recall: recallOf(withAnswers[i]!, exactAnswers[i]!),
    }));
    const timed = (drop?: string) => rolledBack(client, () => timeStatements(client, statements), drop);
    const rounds: SpeedUpRound[] = [];
    for (let round = 0; round < options.repeats; round++) {
      if (round % 2 === 0) rounds.push({ withMs: await timed(), withoutMs: await timed(found.index) });
      else {
        const withoutMs = await timed(found.index);
        rounds.push({ withMs: await timed(), withoutMs });
      }
    }
    const worstRecall = recalls.reduce<(typeof recalls)[number] | undefined>(
      (worst, r) => (!worst || r.recall < worst.recall ? r : worst),
      undefined,
    );
    return {
      ...found,
      statements: statements.length,
      rounds,
      ...bootstrapRatio(rounds, options.seed),
      recall: recalls.length === 0 ? 1 : recalls.reduce((sum, r) => sum + r.recall, 0) / recalls.length,
      worstRecall,
    };
  } catch (error) {
    throw new InfrastructureError(
      `timing the statements with and without index ${found.index} failed: ${redact(String((error as Error).message ?? error))}`,
      error,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** `12.3× faster with media_uploaded_at_idx (95 % CI 10.1–14.8×; …)`, for a verdict's evidence. */
export function describeSpeedUp(s: SpeedUp): string {
  const x = (v: number) => `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10}×`;
  const n = s.rounds.length;
  const mean = (pick: (r: SpeedUpRound) => number) =>
    Math.round((s.rounds.reduce((a, r) => a + pick(r), 0) / n) * 1000) / 1000;
  return `${x(s.ratio)} faster with ${s.index} than without (95 % CI ${x(s.lower)}–${x(s.upper)}, ${s.resamples} bootstrap resamples of ${n} rounds; each round ${s.statements} statement(s): ${mean((r) => r.withMs)} ms with, ${mean((r) => r.withoutMs)} ms without, the index dropped on ${s.table} in a transaction rolled back)`;
}
