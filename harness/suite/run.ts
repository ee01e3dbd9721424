import type { z } from 'zod';
import { UsageError, zodIssue } from '../errors.ts';
import { SCHEMA_VERSION, type SuiteResult, suiteResultSchema, type TimelineRecord } from '../results/schema.ts';
import { writeSuiteResult, type RunDirectory } from '../results/write.ts';
import type { Timeline } from '../../load/timeline.ts';
import type { SuiteContext, SuiteDefinition, SuiteOutcome } from './types.ts';

/** A suite's options from the config (or a test), validated once: the message names the field. */
export function resolveSuiteOptions<Schema extends z.ZodType>(
  suite: SuiteDefinition<Schema>,
  raw: unknown,
): z.output<Schema> {
  let parsed: ReturnType<Schema['safeParse']>;
  try {
    parsed = suite.options.safeParse(raw ?? {}) as ReturnType<Schema['safeParse']>;
  } catch (error) {
    throw new UsageError(
      `suites.${suite.name}: its options schema threw (${(error as Error).message ?? String(error)}); write it with z from 'dbproof'`,
    );
  }
  // A team's suite may bring any object with a safeParse: only zod's answer is understood.
  if (
    !parsed ||
    typeof parsed !== 'object' ||
    typeof parsed.success !== 'boolean' ||
    (!parsed.success && !Array.isArray(parsed.error?.issues))
  )
    throw new UsageError(
      `suites.${suite.name}: its options are not a zod schema; write them with z from 'dbproof' (z.object({ … }))`,
    );
  if (parsed.success) return parsed.data as z.output<Schema>;
  throw new UsageError(`invalid option ${zodIssue(parsed.error, '', ['suites', suite.name])}`);
}

/** The shape of a topology that requirements are checked against: planned (from the config) or started. */
export interface TopologyShape {
  replicas: number;
  redis: boolean;
}

/**
 * Refuses a topology the suite cannot run on, before anything is done to it: the one check
 * of a suite's requirements, made when a run is planned (on the config's topology, before
 * anything starts) and again by runSuite (on the topology it is given).
 */
export function checkRequirements(suite: SuiteDefinition, topology: TopologyShape): void {
  const { replicas = 0, redis = false } = suite.requires;
  if (topology.replicas < replicas)
    throw new UsageError(
      `suite ${suite.name} needs at least ${replicas} replica(s); the config's topology has ${topology.replicas} (set topology.replicas)`,
    );
  if (redis && !topology.redis)
    throw new UsageError(`suite ${suite.name} needs Redis; the config's topology has none (set topology.redis: true)`);
}

export interface RunSuiteOptions {
  /** The system under test as it appears in results, e.g. `reference app` or `reference app (naive)`. */
  target: string;
  /** Where to write the result (`<run>/suites/<suite>--<target>.json`); not written when absent. */
  run?: RunDirectory;
}

/** Runs one suite and returns (and writes) its result: verdicts, measurements, events and timeline. */
export async function runSuite<Schema extends z.ZodType>(
  suite: SuiteDefinition<Schema>,
  context: SuiteContext,
  rawOptions: unknown,
  options: RunSuiteOptions,
): Promise<SuiteResult & { file?: string }> {
  const resolved = resolveSuiteOptions(suite, rawOptions);
  checkRequirements(suite as SuiteDefinition, {
    replicas: context.topology.replicas.length,
    redis: Boolean(context.topology.redis),
  });
  const startedAt = new Date();
  const started = performance.now();
  const outcome = checkedOutcome(suite.name, await suite.run(context, resolved));
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

/** What a suite's run must return, as the results keep it: checked, since a team's suite may return anything. */
const outcomeSchema = suiteResultSchema
  .pick({ verdicts: true, measurements: true, events: true, timelines: true, notes: true, findings: true, plans: true })
  .passthrough();

/**
 * A suite's outcome, checked before it is recorded: a malformed one (a verdict without its
 * budget, measurements that are not numbers) is the suite's mistake, said in one line,
 * never a pass and never a crash further on.
 */
function checkedOutcome(name: string, outcome: unknown): SuiteOutcome {
  const parsed = outcomeSchema.safeParse(outcome);
  if (parsed.success) return outcome as SuiteOutcome;
  throw new UsageError(
    `suite ${name} returned ${zodIssue(parsed.error, 'an outcome that is not one')}; return { verdicts (made with judge), measurements, events, timelines, notes }`,
  );
}
