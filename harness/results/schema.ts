import { z } from 'zod';
import { verdictSchema } from '../budgets/index.ts';
import { noiseRecordSchema } from '../noise/record.ts';

/**
 * What a suite leaves in the run's results folder (`results/<run-id>/suites/<name>.json`):
 * its verdicts, the measurements behind them, the faults it applied and the load's
 * timeline. Versioned and validated on write and on read, so that a report or a
 * baseline never reads a file it misunderstands. The gate's summary.json embeds these.
 */
export const SCHEMA_VERSION = 1;

export const eventSchema = z.object({
  /** ms after the suite's load started. */
  t: z.number(),
  kind: z.string(),
  target: z.string(),
  durationMs: z.number(),
  error: z.string().optional(),
});

/** One time slice of a load (per 100 ms by default): the one definition of a bucket, for load/ and the writers alike. */
export const bucketSchema = z.object({
  /** Start of the bucket, ms after the load started. */
  t: z.number(),
  requests: z.number(),
  errors: z.number(),
  p50Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number(),
  /**
   * The load engine's own lateness (issue 13), at most, in this bucket: the open model's
   * delay in taking up a request due (its timer and loop, not a busy connection); the closed
   * model's event-loop hold-up before a client sends again. Large while latencies are large:
   * the generator, not the app, lost the time; the latencies still count from the due time.
   */
  sendLateMs: z.number().optional(),
});
export type Bucket = z.infer<typeof bucketSchema>;

export const timelineSchema = z.object({
  /** What the load did, e.g. `reads GET /inspections-joined?limit=5`. */
  name: z.string(),
  bucketMs: z.number(),
  buckets: z.array(bucketSchema),
});

/** A statement run once per item (N+1), as the n-plus-one suite found it. */
export const findingSchema = z.object({
  /** The endpoint or operation, e.g. `GET /orders?limit={K}`. */
  operation: z.string(),
  exampleSql: z.string(),
  /** How often it ran at each size (keys are the sizes). */
  countsBySize: z.record(z.string(), z.number()),
  /** Statements added per extra item. */
  slope: z.number(),
  hint: z.string(),
  site: z.string().optional(),
});

/** A node of a plan as the report draws it: what it is, the rows it returned, and whether it broke the claim. */
export const planTreeSchema = z.object({
  /** `Seq Scan on checklist_items`, `Nested Loop`, `Sort`. */
  node: z.string(),
  /** Rows it returned in one execution of the statement (actual rows × loops). */
  rows: z.number(),
  /** Why it broke the claim (`39660 rows in the table`), on the offending node only. */
  detail: z.string().optional(),
  offending: z.boolean().optional(),
  get children() {
    return z.array(planTreeSchema);
  },
});

/** The plan that broke a claim of the query-plans suite, for the report to draw. */
export const planEvidenceSchema = z.object({
  /** The verdict's claim, e.g. `GET /inspections/{id}/checklist reads checklist_items by an index`. */
  claim: z.string(),
  /** The request whose statement it was, e.g. `GET /inspections/17/checklist`. */
  request: z.string().optional(),
  statement: z.string(),
  plan: planTreeSchema,
});

export const suiteResultSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  suite: z.string(),
  /** The system under test, e.g. `reference app (naive)` or the config's app name. */
  target: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  pass: z.boolean(),
  verdicts: z.array(verdictSchema),
  measurements: z.record(z.string(), z.number().nullable()),
  events: z.array(eventSchema),
  timelines: z.array(timelineSchema),
  /** What a person should know to read the figures (what was measured and how precisely). */
  notes: z.array(z.string()),
  /** N+1 findings (the n-plus-one suite; empty for the others). */
  findings: z.array(findingSchema).default([]),
  /** The plans that broke a claim, one per failed claim (the query-plans suite). */
  plans: z.array(planEvidenceSchema).optional(),
  /** Which attempt this is (issue 13): above 1 when an earlier one ran while the machine was saturated. */
  attempt: z.number().int().min(1).optional(),
  /** What the machine did meanwhile (issue 13): probe lateness, CPU pressure, steal, cores per party, per 100 ms. */
  noise: noiseRecordSchema.optional(),
});

export type SuiteResult = z.infer<typeof suiteResultSchema>;
export type TimelineRecord = z.infer<typeof timelineSchema>;
export type FindingRecord = z.infer<typeof findingSchema>;
export type PlanTreeRecord = z.infer<typeof planTreeSchema>;
export type PlanEvidenceRecord = z.infer<typeof planEvidenceSchema>;
