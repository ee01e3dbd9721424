import { setTimeout as sleep } from 'node:timers/promises';
import type { QueryResultRow } from 'pg';
import { isNodeFailure, type Db, type Query } from './db.ts';

/**
 * Findings imported in batches (`POST /findings/batch`): one INSERT for the whole batch,
 * and when an item is bad (a unique, foreign-key or check violation, a value too long),
 * each item again under a savepoint of its own, so that the good ones are stored and each
 * bad one is reported at its position. The batch id is an idempotency key: a batch sent
 * again answers what the first one stored, and stores nothing twice.
 *
 * Each safeguard has a naive variant (dbproof's batch-fallback suite must catch each one);
 * `batchOptionsFromEnv` reads their switches.
 */

export interface FindingItem {
  ref: string;
  inspectionId: number;
  severity: number;
  summary: string;
  assetTag: string | null;
}

export interface ItemOutcome {
  position: number;
  ref: string;
  status: 'stored' | 'failed';
  error?: string;
}

export interface BatchOptions {
  /**
   * What a bad item does to the batch: `savepoints` (each item retried under its own
   * savepoint), `none` (the batch refused as a whole), `aborted-transaction` (each item
   * retried inside the transaction the batch's error has already aborted).
   */
  fallback: 'savepoints' | 'none' | 'aborted-transaction';
  /**
   * The batch id recorded with the batch, in its transaction; off: no batch id, each item
   * of the fallback committed on its own, and a fallback cut by a lost connection run again
   * from its first item.
   */
  idempotency: boolean;
  /** Positions reported from 0 (as sent) or from 1 (one off). */
  positionBase: 0 | 1;
  /** The batch as one INSERT, or (the N+1 in disguise) one INSERT per item. */
  insert: 'one-statement' | 'per-item';
}

export function batchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BatchOptions {
  const naive = env.EXAMPLE_NAIVE === '1';
  return {
    fallback:
      naive || env.EXAMPLE_BATCH_FALLBACK === 'off'
        ? 'none'
        : env.EXAMPLE_BATCH_SAVEPOINTS === 'off'
          ? 'aborted-transaction'
          : 'savepoints',
    idempotency: !naive && env.EXAMPLE_BATCH_IDEMPOTENCY !== 'off',
    positionBase: naive || env.EXAMPLE_BATCH_POSITIONS === 'off-by-one' ? 1 : 0,
    insert: naive || env.EXAMPLE_BATCH_INSERT === 'per-item' ? 'per-item' : 'one-statement',
  };
}

/** The findings tables, made at start-up when the inspections they refer to exist (a seeded database). */
export async function ensureFindingsTables(db: Db): Promise<void> {
  await db.write(`DO $$ BEGIN
    PERFORM pg_advisory_xact_lock(727002);
    IF to_regclass('inspections') IS NOT NULL THEN
      CREATE TABLE IF NOT EXISTS findings (
        id bigserial PRIMARY KEY,
        ref text NOT NULL,
        inspection_id bigint NOT NULL REFERENCES inspections (id),
        severity integer NOT NULL CHECK (severity BETWEEN 1 AND 5),
        summary varchar(80) NOT NULL,
        asset_tag text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX IF NOT EXISTS findings_ref_idx ON findings (ref);
      CREATE TABLE IF NOT EXISTS finding_batches (batch_id text PRIMARY KEY, outcome jsonb, created_at timestamptz NOT NULL DEFAULT now());
    END IF;
  END $$`);
}

/** The item's own fault (SQLSTATE class 22, data; 23, a constraint), as opposed to the node's or the transaction's. */
const isItemError = (error: unknown) => /^2[23]/.test((error as { code?: string }).code ?? '');

const INSERT_ONE =
  'INSERT INTO findings (ref, inspection_id, severity, summary, asset_tag) VALUES ($1, $2, $3, $4, $5)';
const INSERT_ALL =
  'INSERT INTO findings (ref, inspection_id, severity, summary, asset_tag) SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[])';

const values = (item: FindingItem) => [item.ref, item.inspectionId, item.severity, item.summary, item.assetTag];

async function insertAll(query: Query, items: FindingItem[], options: BatchOptions): Promise<void> {
  if (options.insert === 'per-item') {
    for (const item of items) await query(INSERT_ONE, values(item));
    return;
  }
  await query(INSERT_ALL, [
    items.map((i) => i.ref),
    items.map((i) => i.inspectionId),
    items.map((i) => i.severity),
    items.map((i) => i.summary),
    items.map((i) => i.assetTag),
  ]);
}

/** The batch refused as a whole because of one bad item (no fallback): answered 422. */
export class BatchRefused extends Error {
  readonly status = 422;
}

const outcome = (options: BatchOptions, i: number, item: FindingItem, error?: unknown): ItemOutcome => ({
  position: i + options.positionBase,
  ref: item.ref,
  ...(error === undefined ? { status: 'stored' } : { status: 'failed', error: (error as Error).message }),
});

/** Inside the batch's transaction: the batch at once, else (a bad item) item by item. */
async function insertWithFallback(query: Query, items: FindingItem[], options: BatchOptions): Promise<ItemOutcome[]> {
  const savepoints = options.fallback === 'savepoints';
  if (savepoints) await query('SAVEPOINT batch');
  try {
    await insertAll(query, items, options);
    if (savepoints) await query('RELEASE SAVEPOINT batch');
    return items.map((item, i) => outcome(options, i, item));
  } catch (error) {
    if (!isItemError(error)) throw error;
    if (options.fallback === 'none') throw new BatchRefused(`batch refused: ${(error as Error).message}`);
    if (savepoints) await query('ROLLBACK TO SAVEPOINT batch');
  }
  const outcomes: ItemOutcome[] = [];
  for (const [i, item] of items.entries()) {
    if (savepoints) await query('SAVEPOINT item');
    try {
      await query(INSERT_ONE, values(item));
      if (savepoints) await query('RELEASE SAVEPOINT item');
      outcomes.push(outcome(options, i, item));
    } catch (error) {
      // The naive variant takes "current transaction is aborted" for the item's own fault.
      if (isNodeFailure(error) || (savepoints && !isItemError(error))) throw error;
      if (savepoints) await query('ROLLBACK TO SAVEPOINT item');
      outcomes.push(outcome(options, i, item, error));
    }
  }
  return outcomes;
}

/**
 * Stores a batch of findings: every good item once, every bad one reported failed at its
 * position. A batch id already stored answers its first outcome. A connection lost on the
 * way rolls the batch back (answered 503), unless its commit made it: then it answers
 * what was committed.
 */
export async function storeFindings(
  db: Db,
  batchId: string | undefined,
  items: FindingItem[],
  options: BatchOptions,
): Promise<ItemOutcome[]> {
  if (!options.idempotency) return storeWithoutIdempotency(db, items, options);
  const stored = async (query: Query) =>
    batchId
      ? (
          await query<{ outcome: ItemOutcome[] }>('SELECT outcome FROM finding_batches WHERE batch_id = $1', [batchId])
        )[0]?.outcome
      : undefined;
  try {
    return await db.transaction(async (query) => {
      // Claimed first: the same batch sent twice at once waits here for the first one's outcome.
      if (batchId) {
        const claimed = await query(
          'INSERT INTO finding_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING batch_id',
          [batchId],
        );
        if (claimed.length === 0) return (await stored(query))!;
      }
      const outcomes = await insertWithFallback(query, items, options);
      if (batchId)
        await query('UPDATE finding_batches SET outcome = $2 WHERE batch_id = $1', [batchId, JSON.stringify(outcomes)]);
      return outcomes;
    });
  } catch (error) {
    // The connection died: the commit may have made it (its answer lost). The batch id says.
    if (!batchId || !isNodeFailure(error)) throw error;
    const committed = await db.transaction(stored).catch(() => undefined);
    if (committed) return committed;
    throw error;
  }
}

/** The naive variant: no batch id, each item of the fallback committed alone, the fallback retried from its start. */
async function storeWithoutIdempotency(db: Db, items: FindingItem[], options: BatchOptions): Promise<ItemOutcome[]> {
  const autocommit: Query = async <R extends QueryResultRow>(sql: string, values?: unknown[]) =>
    (await db.write<R>(sql, values)).rows;
  try {
    await insertAll(autocommit, items, options);
    return items.map((item, i) => outcome(options, i, item));
  } catch (error) {
    if (!isItemError(error)) throw error;
    if (options.fallback === 'none') throw new BatchRefused(`batch refused: ${(error as Error).message}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const outcomes: ItemOutcome[] = [];
      for (const [i, item] of items.entries()) {
        try {
          await autocommit(INSERT_ONE, values(item));
          outcomes.push(outcome(options, i, item));
        } catch (error) {
          if (!isItemError(error)) throw error;
          outcomes.push(outcome(options, i, item, error));
        }
      }
      return outcomes;
    } catch (error) {
      if (attempt === 2 || !isNodeFailure(error)) throw error;
      await sleep(200);
    }
  }
}
