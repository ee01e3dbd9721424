import type { z } from 'zod';
import { UsageError } from '../errors.ts';
import { SCHEMA_VERSION, type SuiteResult, type TimelineRecord } from '../results/schema.ts';
import { writeSuiteResult, type RunDirectory } from '../results/write.ts';
import type { Timeline } from '../../load/timeline.ts';
import type { SuiteContext, SuiteDefinition } from './types.ts';

/** A suite's options from the config (or a test), validated once: the message names the field. */
export function resolveSuiteOptions<Schema extends z.ZodType>(suite: SuiteDefinition<Schema>, raw: unknown): z.output<Schema> {
  const parsed = suite.options.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`invalid option suites.${suite.name}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
}

/** Refuses a topology the suite cannot run on, before anything is done to it. */
export function checkRequirements(suite: SuiteDefinition, context: SuiteContext): void {
  const { replicas = 0, redis = false } = suite.requires;
  if (context.topology.replicas.length < replicas) throw new UsageError(`suite ${suite.name} needs at least ${replicas} replica(s); the topology has ${context.topology.replicas.length} (set topology.replicas in the config)`);
  if (redis && !context.topology.redis) throw new UsageError(`suite ${suite.name} needs Redis; the topology has none (set topology.redis: true in the config)`);
}

export interface RunSuiteOptions {
  /** The system under test as it appears in results, e.g. `reference app` or `reference app (naive)`. */
  target: string;
  /** Where to write the result (`<run>/suites/<suite>--<target>.json`); not written when absent. */
  run?: RunDirectory;
}

/** Runs one suite and returns (and writes) its result: verdicts, measurements, events and timeline. */
export async function runSuite<Schema extends z.ZodType>(suite: SuiteDefinition<Schema>, context: SuiteContext, rawOptions: unknown, options: RunSuiteOptions): Promise<SuiteResult & { file?: string }> {
  const resolved = resolveSuiteOptions(suite, rawOptions);
  checkRequirements(suite as SuiteDefinition, context);
  const startedAt = new Date();
  const started = performance.now();
  const outcome = await suite.run(context, resolved);
  const result: SuiteResult = {
    schemaVersion: SCHEMA_VERSION,
    suite: suite.name,
    target: options.target,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    pass: outcome.verdicts.length > 0 && outcome.verdicts.every((v) => v.pass),
    ...outcome,
    findings: outcome.findings ?? [],
  };
  const file = options.run ? await writeSuiteResult(options.run, result) : undefined;
  return { ...result, ...(file ? { file } : {}) };
}

/** A timeline as results keep it. */
export function timelineRecord(name: string, timeline: Timeline): TimelineRecord {
  return { name, bucketMs: timeline.bucketMs, buckets: timeline.buckets() };
}
