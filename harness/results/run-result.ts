import { z } from 'zod';
import { verdictSchema } from '../budgets/index.ts';
import { noiseRecordSchema } from '../noise/record.ts';
import { bucketSchema, findingSchema, suiteResultSchema } from './schema.ts';

/**
 * One run of `dbproof gate`: every suite's result, every load scenario's figures, and
 * every verdict in one list (with where it came from). Every writer reads only this.
 * `incomplete` stays true until the run has finished: an interrupted run is marked so,
 * never half-written.
 */
export const RUN_SCHEMA_VERSION = 1;

const latencySchema = z.object({
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  'p99.9': z.number(),
  max: z.number(),
  mean: z.number(),
});

/** One request of a scenario's mix, measured on its own. */
export const endpointResultSchema = z.object({
  request: z.string(),
  weight: z.number(),
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  rps: z.number(),
  latencyMs: latencySchema,
  histogram: z.string(),
});

const topStatementSchema = z.object({
  fingerprint: z.string(),
  query: z.string(),
  calls: z.number(),
  totalMs: z.number(),
  meanMs: z.number(),
  share: z.number().optional(),
  buffersPerCall: z.number(),
  rowsPerCall: z.number(),
  plan: z.array(z.string()).optional(),
});

const statementChangeSchema = z.object({
  kind: z.enum(['new', 'buffers', 'plan']),
  query: z.string(),
  evidence: z.string(),
});

export const loadResultSchema = z.object({
  /** The scenario's name in the config. */
  name: z.string(),
  request: z.string(),
  model: z.enum(['open', 'closed']),
  engine: z.string(),
  rate: z.number().nullable(),
  connections: z.number().nullable(),
  durationMs: z.number(),
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  /** Achieved: requests answered as expected per second (never the target). */
  rps: z.number(),
  /** The open model's target rate; null for the closed model (absent in results written before it). */
  targetRps: z.number().nullable().optional(),
  /** Open model: requests due that were never sent, their connection busy to the end (counted among the errors). */
  unsent: z.number().optional(),
  /** Open model: requests that waited over 10 ms for a free connection, timed from their due time all the same. */
  waited: z.number().optional(),
  /** Open model: the engine processes the schedule was split over. */
  workers: z.number().optional(),
  latencyMs: latencySchema,
  verdicts: z.array(verdictSchema),
  buckets: z.array(bucketSchema),
  /** The HDR histogram (µs), compressed base64: mergeable, and the source of percentile curves. */
  histogram: z.string(),
  /** Per request of a mix (empty for a single request); budgets scoped to one are among `verdicts`. */
  endpoints: z.array(endpointResultSchema).default([]),
  /** The statements that cost it the most (results.topStatements): see harness/capture/top-statements.ts. */
  statements: z.array(topStatementSchema).optional(),
  /** What changed in them since the baseline's load of the same name. */
  statementChanges: z.array(statementChangeSchema).optional(),
  /** Which attempt this is (issue 13): above 1 when an earlier one ran while the machine was saturated. */
  attempt: z.number().int().min(1).optional(),
  /** What the machine did meanwhile (issue 13): probe lateness, CPU pressure, steal, cores per party, per 100 ms. */
  noise: noiseRecordSchema.optional(),
});

/** What the machine did while an attempt ran (issue 13): the line a person reads, and whether it was saturated. */
export const attemptNoiseSchema = z.object({
  saturated: z.boolean(),
  evidence: z.string(),
});

/**
 * An attempt of a suite or load scenario that was run again: a time-dependent budget broke
 * while the machine was saturated. Kept so a reader sees every attempt, not only the one
 * that counts.
 */
export const earlierAttemptSchema = z.object({
  /** `suite replica-lost` or `load checkout`. */
  source: z.string(),
  attempt: z.number().int(),
  noise: attemptNoiseSchema,
  verdicts: z.array(verdictSchema),
});

/** Shard `index` of `total` (both from 1): a deterministic share of a config's suites and scenarios. */
export const shardSchema = z.object({
  index: z.number().int().min(1),
  total: z.number().int().min(1),
});

export const runResultSchema = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  incomplete: z.boolean(),
  pass: z.boolean(),
  /**
   * Not a pass and not a fail: every broken budget depends on time and broke in every
   * attempt while the machine was saturated. The gate exits 2: the machine could not measure.
   */
  inconclusive: z.boolean().default(false),
  environment: z.object({
    dbproof: z.string(),
    node: z.string(),
    platform: z.string(),
    cpus: z.number(),
    provider: z.string(),
    app: z.string(),
  }),
  suites: z.array(suiteResultSchema),
  loads: z.array(loadResultSchema),
  /** Every verdict, with its source: `suite replica-lost` or `load checkout`. */
  verdicts: z.array(verdictSchema.extend({ source: z.string() })),
  /** Every N+1 finding, with its source (`suite n-plus-one`). */
  findings: z.array(findingSchema.extend({ source: z.string() })).default([]),
  /** The attempts that were run again because the machine was saturated (see earlierAttemptSchema). */
  earlierAttempts: z.array(earlierAttemptSchema).default([]),
  /** Which share of the config's suites and scenarios this run was (`gate --shard 2/3`); absent when it ran them all. */
  shard: shardSchema.optional(),
  /**
   * The work the config gave the run, as a hash of its suites and scenarios (names and resolved
   * options, before any sharding): the shards of one config share it, and `dbproof merge`
   * refuses shards whose hashes differ. Absent in results written before it.
   */
  configHash: z.string().optional(),
  /** A merged run (`dbproof merge`): the shards it was made of. */
  mergedFrom: z.array(shardSchema.extend({ runId: z.string() })).optional(),
});

export type RunResult = z.infer<typeof runResultSchema>;
export type ShardRecord = z.infer<typeof shardSchema>;
export type LoadResult = z.infer<typeof loadResultSchema>;
export type EndpointResult = z.infer<typeof endpointResultSchema>;
export type AttemptNoise = z.infer<typeof attemptNoiseSchema>;
export type EarlierAttempt = z.infer<typeof earlierAttemptSchema>;

/** The flat verdict and finding lists and the overall pass, from the suites and loads. */
export function withVerdicts(
  run: Omit<RunResult, 'verdicts' | 'pass' | 'findings' | 'inconclusive' | 'earlierAttempts'> &
    Partial<Pick<RunResult, 'earlierAttempts'>>,
): RunResult {
  const verdicts = [
    ...run.suites.flatMap((s) => s.verdicts.map((v) => ({ ...v, source: `suite ${s.suite}` }))),
    ...run.loads.flatMap((l) => l.verdicts.map((v) => ({ ...v, source: `load ${l.name}` }))),
  ];
  const findings = run.suites.flatMap((s) => s.findings.map((f) => ({ ...f, source: `suite ${s.suite}` })));
  // A shard the share gave nothing passes, as Playwright's empty shard does; any other run must judge a budget.
  const pass = !run.incomplete && (verdicts.length > 0 || isEmptyShard(run)) && verdicts.every((v) => v.pass);
  const broken = verdicts.filter((v) => !v.pass);
  const inconclusive = !run.incomplete && broken.length > 0 && broken.every((v) => v.inconclusive);
  return { ...run, verdicts, findings, pass, inconclusive, earlierAttempts: run.earlierAttempts ?? [] };
}

/** A shard whose share of the config was empty (more shards than suites and scenarios): it ran nothing. */
export function isEmptyShard(run: Pick<RunResult, 'shard' | 'suites' | 'loads'>): boolean {
  return run.shard !== undefined && run.suites.length === 0 && run.loads.length === 0;
}

/** What part of the config the run covered, for the writers: `shard 2 of 3`, `merged from 3 shards`; undefined for a whole run. */
export function shareLine(run: Pick<RunResult, 'shard' | 'suites' | 'loads' | 'mergedFrom'>): string | undefined {
  if (run.shard)
    return isEmptyShard(run)
      ? `Shard ${run.shard.index} of ${run.shard.total}: the share gave it nothing to run (more shards than suites and scenarios), so it passes.`
      : `Shard ${run.shard.index} of ${run.shard.total} of the config's suites and scenarios (\`dbproof merge\` joins the shards).`;
  if (run.mergedFrom)
    return `Merged from ${run.mergedFrom.length} shards: ${run.mergedFrom.map((s) => `${s.index}/${s.total} (run ${s.runId})`).join(', ')}.`;
  return undefined;
}

/** The one line for a run the machine could not measure: how many budgets, the first of them, what the machine did. */
export function inconclusiveLine(run: Pick<RunResult, 'verdicts'>): string {
  const open = run.verdicts.filter((v) => v.inconclusive);
  const first = open[0];
  const example = first ? ` (${first.source}: ${first.claim}; ${first.evidence ?? 'no evidence'})` : '';
  return `INCONCLUSIVE: the machine was too busy to measure ${open.length} budget(s) in any attempt${example}; run again on a quieter machine, or allow more attempts (noise.retries in the config)`;
}

/** PASS, FAIL or INCONCLUSIVE for the whole run (an interrupted run is not a pass: FAIL). */
export function runWord(run: Pick<RunResult, 'pass' | 'inconclusive'>): 'PASS' | 'FAIL' | 'INCONCLUSIVE' {
  if (run.pass) return 'PASS';
  return run.inconclusive ? 'INCONCLUSIVE' : 'FAIL';
}
