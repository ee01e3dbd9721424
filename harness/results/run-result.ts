import { z } from 'zod';
import { verdictSchema } from '../budgets/index.ts';
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
  rps: z.number(),
  latencyMs: latencySchema,
  verdicts: z.array(verdictSchema),
  buckets: z.array(bucketSchema),
  /** The HDR histogram (µs), compressed base64: mergeable, and the source of percentile curves. */
  histogram: z.string(),
  /** Per request of a mix (empty for a single request); budgets scoped to one are among `verdicts`. */
  endpoints: z.array(endpointResultSchema).default([]),
});

export const runResultSchema = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  incomplete: z.boolean(),
  pass: z.boolean(),
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
});

export type RunResult = z.infer<typeof runResultSchema>;
export type LoadResult = z.infer<typeof loadResultSchema>;
export type EndpointResult = z.infer<typeof endpointResultSchema>;

/** The flat verdict and finding lists and the overall pass, from the suites and loads. */
export function withVerdicts(run: Omit<RunResult, 'verdicts' | 'pass' | 'findings'>): RunResult {
  const verdicts = [
    ...run.suites.flatMap((s) => s.verdicts.map((v) => ({ ...v, source: `suite ${s.suite}` }))),
    ...run.loads.flatMap((l) => l.verdicts.map((v) => ({ ...v, source: `load ${l.name}` }))),
  ];
  const findings = run.suites.flatMap((s) => s.findings.map((f) => ({ ...f, source: `suite ${s.suite}` })));
  return { ...run, verdicts, findings, pass: !run.incomplete && verdicts.length > 0 && verdicts.every((v) => v.pass) };
}
