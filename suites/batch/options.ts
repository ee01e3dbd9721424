import { z } from 'zod';
import { requestString } from '../../harness/http/request.ts';
import { count, ms } from '../support/options.ts';

/** The kinds of bad item: each violates what a table can refuse an item for. */
export const BAD_KINDS = ['unique', 'foreignKey', 'check', 'tooLong'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** Where bad items go in a batch: named places, or a 0-based position. */
export const NAMED_POSITIONS = ['first', 'middle', 'last', 'adjacent', 'all'] as const;
export type Position = (typeof NAMED_POSITIONS)[number] | number;

/** How many strings in a JSON value (at any depth) are exactly `text`. */
export function occurrences(value: unknown, text: string): number {
  if (value === text) return 1;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + occurrences(v, text), 0);
  if (value && typeof value === 'object')
    return Object.values(value).reduce<number>((n, v) => n + occurrences(v, text), 0);
  return 0;
}

const fields = z.record(z.string(), z.unknown());
const identifier = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/,
    "a lower-case table or column name, e.g. 'findings' or 'app.findings'",
  );

const reportSchema = z
  .object({
    /** Where the per-item entries are in the answer's JSON: a dotted path to an array ('' when the answer is the array). */
    list: z.string().default('results'),
    /**
     * `all`: every item has an entry with its outcome; `failures`: only the failed items are
     * listed (as AWS Lambda's `batchItemFailures`), every other item counts as reported stored.
     */
    lists: z.enum(['all', 'failures']).default('all'),
    /**
     * How an entry names its item: `position:<field>` (its place in the batch, counted from
     * `firstPosition`), `key:<field>` (the item's key) or `order` (the n-th entry is the n-th
     * item; `lists: 'all'` only).
     */
    item: z
      .string()
      .regex(/^(position:\S+|key:\S+|order)$/, "'position:<field>', 'key:<field>' or 'order'")
      .default('position:position'),
    /** The position of a batch's first item: 0 or 1. */
    firstPosition: z.union([z.literal(0), z.literal(1)]).default(0),
    /** `lists: 'all'`: the entry's field that says what became of the item… */
    status: z.string().min(1).default('status'),
    /** …and its value for an item stored (any other value: failed). */
    stored: z.union([z.string(), z.number(), z.boolean()]).default('stored'),
  })
  .strict()
  .refine((r) => !(r.lists === 'failures' && r.item === 'order'), {
    message: "a list of failures names its items by 'position:<field>' or 'key:<field>', not by 'order'",
    path: ['item'],
  });

const endpointSchema = z
  .object({
    /** The batch endpoint. */
    request: requestString({
      methods: ['POST', 'PUT', 'PATCH'],
      hint: "a POST, PUT or PATCH request such as 'POST /findings/batch'",
    }).default('POST /findings/batch'),
    /**
     * The request's JSON body: the string `'{items}'` where the batch's items go; `{batch}` is
     * a key per batch (an idempotency key: the same when the suite sends a batch again).
     */
    body: z.unknown().default({ batchId: '{batch}', items: '{items}' }),
    /**
     * One good item. A field whose value is `'{key}'` carries the item's key: unique in the
     * run, stored as is in the table's `keyColumn`, by which the suite looks the item up.
     */
    item: fields.default({ ref: '{key}', inspectionId: 1, severity: 3, summary: 'finding {key}' }),
    /** The table the items are stored in (`schema.table` or `table`)… */
    table: identifier.default('findings'),
    /** …and its column that holds the item's key (not necessarily unique: a duplicate is found by it). */
    keyColumn: z
      .string()
      .regex(/^[a-z_][a-z0-9_$]*$/, "a lower-case column name, e.g. 'ref'")
      .default('ref'),
    /**
     * How to make a bad item of each kind: fields laid over the good item (`{long}` is 10,000
     * characters, `{run}` a token of this run). `unique`: the suite first stores one item with
     * these fields, so that every bad item of this kind conflicts with it.
     */
    badItems: z
      .object({ unique: fields, foreignKey: fields, check: fields, tooLong: fields })
      .partial()
      .strict()
      .default({
        unique: { assetTag: 'taken-{run}' },
        foreignKey: { inspectionId: -1 },
        check: { severity: 99 },
        tooLong: { summary: '{long}' },
      }),
    /** How the answer reports each item's outcome. */
    report: reportSchema.prefault({}),
  })
  .strict()
  .superRefine((endpoint, ctx) => {
    if (occurrences(endpoint.body, '{items}') !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['body'],
        message: "the body needs the string '{items}' once, where the batch's items go, e.g. { items: '{items}' }",
      });
    if (occurrences(endpoint.item, '{key}') !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['item'],
        message:
          "the item needs one field whose value is '{key}' (the item's key, as the table's keyColumn stores it), e.g. { ref: '{key}', … }",
      });
  });

const readSchema = z
  .object({
    /** A batched read with a per-item fallback, written in full (no placeholders). */
    request: requestString({ methods: ['GET'], hint: "a GET request such as 'GET /orders/7/lines-batched'" }),
    /**
     * The table its batched statement reads. The suite locks it (ACCESS EXCLUSIVE, on the
     * primary, replayed by every replica) before the request, cancels the app's first
     * statement that waits for the lock (SQLSTATE 57014, what a statement timeout raises) and
     * releases the lock: the per-item reads that follow find the table free.
     */
    lockTable: identifier,
    /** Requests with the batched statement cancelled. */
    times: z.number().int().min(1).max(20).default(3),
    /** The endpoint's budget: each of them answered in at most this many ms. */
    budgetMs: ms(2000),
  })
  .strict();

export const batchFallbackOptions = z
  .object({
    /** The batch endpoints, each checked on its own. */
    endpoints: z.array(endpointSchema).min(1).max(10).prefault([{}]),
    /**
     * Where the bad items go in a batch: `first`, `middle`, `last`, `adjacent` (two side by
     * side in the middle), `all`, or a 0-based position.
     */
    positions: z
      .array(z.union([z.enum(NAMED_POSITIONS), z.number().int().min(0)]))
      .min(1)
      .default(['first', 'middle', 'last', 'adjacent', 'all']),
    /** The kinds of bad item: one batch for each kind at each position. */
    kinds: z
      .array(z.enum(BAD_KINDS))
      .min(1)
      .default([...BAD_KINDS]),
    /** Items per batch of the bad-item cases. */
    batchSize: z.number().int().min(3).max(1000).default(10),
    /** Batch sizes the cost is measured at (statements added per extra item), on the happy path and falling back. */
    costSizes: z
      .tuple([z.number().int().min(2).max(1000), z.number().int().min(3).max(1000)])
      .refine(([small, large]) => large > small, 'give two increasing sizes, e.g. [10, 40]')
      .default([10, 40]),
    /** Measured batches per size (the fewest statements count), after a warm-up batch. */
    repeats: z.number().int().min(1).max(10).default(2),
    /** Send one batch with a bad item twice, unchanged (the same `{batch}`): a client's retry after a lost answer. */
    resend: z.boolean().default(true),
    faults: z
      .object({
        /** Reset the app's connections to the primary (its link) once half of the fallback's statements have run. */
        kill: z.boolean().default(true),
        /** Freeze the primary for `freezeMs` at the same point. */
        freeze: z.boolean().default(true),
        freezeMs: ms(1000),
        /** Latency added to the app's link to the primary during a fault case: the fallback lasts long enough to be cut in its middle. */
        linkLatencyMs: ms(20),
        /** Items per batch of a fault case. */
        batchSize: z.number().int().min(3).max(1000).default(20),
      })
      .strict()
      .prefault({}),
    /**
     * The read side: batched reads whose batched statement is cancelled must still answer,
     * with what they answer unforced, within their budget ([] for none).
     */
    reads: z
      .array(readSchema)
      .max(10)
      .default([
        { request: 'GET /inspections/1/media-batched?items=30', lockTable: 'media', times: 3, budgetMs: 2000 },
      ]),
    /** A batch not answered in this time counts as failed as a whole. */
    requestTimeoutMs: ms(15_000),
    budgets: z
      .object({
        /** Good items not in the table once their batch was answered (a batch refused as a whole without a fault: all its good items). */
        lostItems: count(0),
        /** Good items in the table more than once. */
        duplicatedItems: count(0),
        /** Bad items not reported failed (reported stored, or not reported at all). */
        badReportedStored: count(0),
        /** Good items not reported stored (reported failed, or not reported at all). */
        goodReportedFailed: count(0),
        /** Batches answered failed as a whole under a fault while some of their items were stored. */
        partialFailures: count(0),
        /** Statements added per extra item on the happy path (0: a real batch, the same statements at every size). */
        happyStatementsPerItem: count(0),
        /** Statements added per extra item when a batch falls back (a savepoint per item costs 3). */
        fallbackStatementsPerItem: count(4),
        /** A falling-back batch's time over a happy one's, at the larger cost size (one bad item among 40: about 40 round trips against a few). */
        fallbackLatencyRatio: z.number().min(1).default(50),
        /** Fault cases whose fault could not strike in the middle of the fallback (answered first): nothing was tested. */
        faultsMissed: count(0),
        /** Reads whose batched statement was cancelled that did not answer 2xx with what they answer unforced. */
        readFallbackFailures: count(0),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((options, ctx) => {
    for (const [i, position] of options.positions.entries())
      if (typeof position === 'number' && position >= options.batchSize)
        ctx.addIssue({
          code: 'custom',
          path: ['positions', i],
          message: `position ${position} is not in a batch of ${options.batchSize} (batchSize); positions count from 0`,
        });
    for (const [e, endpoint] of options.endpoints.entries())
      for (const kind of options.kinds)
        if (!endpoint.badItems[kind])
          ctx.addIssue({
            code: 'custom',
            path: ['endpoints', e, 'badItems', kind],
            message: `kinds has '${kind}' but badItems has no ${kind}: give the fields that make an item of this kind (laid over the good item), or leave '${kind}' out of kinds`,
          });
  });

export type BatchFallbackOptions = z.output<typeof batchFallbackOptions>;
export type Endpoint = BatchFallbackOptions['endpoints'][number];
export type ReportSpec = Endpoint['report'];
export type ReadCase = BatchFallbackOptions['reads'][number];
