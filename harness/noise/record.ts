import { z } from 'zod';

/**
 * What the noise monitor measured about the machine itself while dbproof ran, per bucket
 * (100 ms by default), and whether it was too busy for its latencies to mean anything.
 * Pure: the schema the results files embed, and the judgement of a bucket and of a window.
 */

const coresSchema = z.object({
  /** Cores used by dbproof's own processes (this process and what it started, the app and Postgres aside). */
  dbproof: z.number(),
  /** Cores used by the app under test and the processes below it. */
  app: z.number(),
  /** Cores used by Postgres (every postmaster and its backends). */
  postgres: z.number(),
  /** Cores busy on the whole machine (everything, the three above included); null without /proc/stat. */
  machine: z.number().nullable(),
});

export const noiseBucketSchema = z.object({
  /** Start of the bucket, ms after the monitor started. */
  t: z.number(),
  /**
   * The worst lateness (ms) of a probe wake-up the probe was waiting for during this bucket:
   * a wake-up 400 ms late counts in every bucket of those 400 ms, so a stall marks each
   * bucket it covered, not only the one it ended in. Null once the probe is gone.
   */
  probeMaxMs: z.number().nullable(),
  /** The 99th percentile (nearest rank) of the same: with under 100 wake-ups in a bucket, its maximum. */
  probeP99Ms: z.number().nullable(),
  /** Wake-ups of the probe in this bucket (about 90 in 100 ms when the machine is quiet; 0 while it is stalled). */
  wakeups: z.number(),
  /** Share of the bucket (0..1) during which some runnable task waited for a CPU; null without /proc/pressure/cpu. */
  cpuPressure: z.number().nullable(),
  /** Share of all CPU time (0..1) the hypervisor gave to other machines; null without a steal column in /proc/stat. */
  steal: z.number().nullable(),
  cpu: coresSchema,
});

export const noiseSummarySchema = z.object({
  buckets: z.number(),
  /** The 99th percentile of the buckets' probeP99Ms; null when no bucket had the probe. */
  probeP99Ms: z.number().nullable(),
  probeMaxMs: z.number().nullable(),
  cpuPressureMean: z.number().nullable(),
  stealMean: z.number().nullable(),
  /** Mean cores used per party, and on the whole machine. */
  cpuMean: coresSchema,
  saturatedBuckets: z.number(),
  /** More than `windowShare` of the buckets (and at least `windowBuckets` of them) were saturated. */
  saturated: z.boolean(),
  /** One line a person reads, e.g. `7 of 50 buckets saturated: probe woke up to 212 ms late (p99 48 ms); CPU pressure 64 %; steal 3 %`. */
  evidence: z.string(),
});

export const noiseRecordSchema = z.object({
  /** When the monitor started (ISO 8601); the buckets' `t` count from here. */
  startedAt: z.string(),
  bucketMs: z.number(),
  /** CPUs this machine offers (os.availableParallelism()): the scale of the `cpu` figures. */
  cores: z.number(),
  buckets: z.array(noiseBucketSchema),
  summary: noiseSummarySchema,
});

export type NoiseBucket = z.infer<typeof noiseBucketSchema>;
export type NoiseSummary = z.infer<typeof noiseSummarySchema>;
export type NoiseRecord = z.infer<typeof noiseRecordSchema>;
export type Cores = z.infer<typeof coresSchema>;

/** When a bucket, and a window of buckets, counts as measured on a saturated machine. */
export interface SaturationThresholds {
  /** A bucket is saturated when the probe's p99 lateness in it is above this many ms … */
  probeP99Ms: number;
  /** … or when CPU pressure (share of the bucket some task waited for a CPU) is above this. */
  cpuPressure: number;
  /** A window is saturated when more than this share of its buckets are … */
  windowShare: number;
  /** … and at least this many: one bad 100 ms bucket never makes a window saturated. */
  windowBuckets: number;
}

/**
 * The default thresholds, chosen from measurements (TODO: table).
 */
export const SATURATION: Readonly<SaturationThresholds> = Object.freeze({
  probeP99Ms: 20,
  cpuPressure: 0.5,
  windowShare: 0.1,
  windowBuckets: 2,
});

export function isSaturatedBucket(bucket: NoiseBucket, thresholds: SaturationThresholds = SATURATION): boolean {
  return (
    (bucket.probeP99Ms !== null && bucket.probeP99Ms > thresholds.probeP99Ms) ||
    (bucket.cpuPressure !== null && bucket.cpuPressure > thresholds.cpuPressure)
  );
}

/** The summary of `buckets`, judged by `thresholds`. */
export function summariseNoise(
  buckets: readonly NoiseBucket[],
  thresholds: SaturationThresholds = SATURATION,
): NoiseSummary {
  const probeP99s = present(buckets.map((bucket) => bucket.probeP99Ms));
  const probeMaxes = present(buckets.map((bucket) => bucket.probeMaxMs));
  const saturatedBuckets = buckets.filter((bucket) => isSaturatedBucket(bucket, thresholds)).length;
  const summary = {
    buckets: buckets.length,
    probeP99Ms: probeP99s.length ? percentile(probeP99s, 0.99) : null,
    probeMaxMs: probeMaxes.length ? Math.max(...probeMaxes) : null,
    cpuPressureMean: mean(present(buckets.map((bucket) => bucket.cpuPressure))),
    stealMean: mean(present(buckets.map((bucket) => bucket.steal))),
    cpuMean: {
      dbproof: mean(buckets.map((bucket) => bucket.cpu.dbproof)) ?? 0,
      app: mean(buckets.map((bucket) => bucket.cpu.app)) ?? 0,
      postgres: mean(buckets.map((bucket) => bucket.cpu.postgres)) ?? 0,
      machine: mean(present(buckets.map((bucket) => bucket.cpu.machine))),
    },
    saturatedBuckets,
    saturated:
      saturatedBuckets >= thresholds.windowBuckets && saturatedBuckets > thresholds.windowShare * buckets.length,
  };
  return { ...summary, evidence: evidenceOf(summary) };
}

/**
 * The summary of the buckets of `record` that overlap the window `[fromMs, toMs)` (ms after
 * the monitor started, as `monitor.now()` gives them): a suite's attempt is judged on the
 * window it ran in, not on the whole run.
 */
export function noiseBetween(
  record: Pick<NoiseRecord, 'bucketMs' | 'buckets'>,
  fromMs: number,
  toMs: number,
  thresholds: SaturationThresholds = SATURATION,
): NoiseSummary {
  return summariseNoise(
    record.buckets.filter((bucket) => bucket.t < toMs && bucket.t + record.bucketMs > fromMs),
    thresholds,
  );
}

/** The value at quantile `q` (0..1) by nearest rank: at least that share of `values` is at or below it. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function present(values: readonly (number | null)[]): number[] {
  return values.filter((value): value is number => value !== null);
}

function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null;
}

function evidenceOf(summary: Omit<NoiseSummary, 'evidence'>): string {
  if (summary.buckets === 0) return 'no noise measured in this window';
  const count = `${summary.saturatedBuckets} of ${summary.buckets} buckets saturated`;
  const probe =
    summary.probeMaxMs === null
      ? 'no probe'
      : `probe woke up to ${ms(summary.probeMaxMs)} late (p99 ${ms(summary.probeP99Ms!)})`;
  const figures = [probe];
  if (summary.cpuPressureMean !== null) figures.push(`CPU pressure ${percent(summary.cpuPressureMean)} of the time`);
  if (summary.stealMean !== null) figures.push(`steal ${percent(summary.stealMean)}`);
  const { machine, dbproof, app, postgres } = summary.cpuMean;
  if (machine !== null) {
    const others = Math.max(0, machine - dbproof - app - postgres);
    figures.push(`${others.toFixed(1)} cores busy outside dbproof, the app and Postgres`);
  }
  return `${count}: ${figures.join('; ')}`;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}
