import * as hdr from 'hdr-histogram-js';
import type { Bucket } from '../harness/results/schema.ts';

/** Latencies are recorded in microseconds, up to 60 s, with 3 significant digits. */
export function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/** One request: when it was due (ms after the start), how long it took from then, whether it failed. */
export interface Sample {
  t: number;
  latencyMs: number;
  ok: boolean;
}

/** Every request is kept too (for the exact moment a fault was first seen), up to this many. */
const MAX_SAMPLES = 1_000_000;

// A bucket's shape belongs to the results (what every writer reads); the timeline fills it.
export type { Bucket };

/**
 * Samples of a load, bucketed by the time each request was due to start (per 100 ms
 * by default), with an HDR histogram per bucket and one for the whole run.
 */
export class Timeline {
  readonly bucketMs: number;
  readonly overall = histogram();
  readonly #buckets = new Map<number, { requests: number; errors: number; latency: hdr.Histogram }>();
  /** The latest send of a request due in each bucket, ms after its due time (the open model's schedule slip). */
  readonly #sendLate = new Map<number, number>();
  readonly #samples: Sample[] = [];
  #errors = 0;

  readonly #keepSamples: boolean;

  /** `keepSamples: false` where nobody asks for a fault's exact first impact (a plain load: ~10 % more requests/s). */
  constructor(bucketMs = 100, options: { keepSamples?: boolean } = {}) {
    this.bucketMs = bucketMs;
    this.#keepSamples = options.keepSamples ?? true;
  }

  /** A request due at `t` ms that took `latencyMs` (from its due time) and failed or not. */
  record(t: number, latencyMs: number, ok: boolean): void {
    const start = Math.floor(t / this.bucketMs) * this.bucketMs;
    let bucket = this.#buckets.get(start);
    if (!bucket) {
      bucket = { requests: 0, errors: 0, latency: histogram() };
      this.#buckets.set(start, bucket);
    }
    bucket.requests++;
    if (this.#keepSamples && this.#samples.length < MAX_SAMPLES) this.#samples.push({ t, latencyMs, ok });
    const micros = Math.max(1, Math.round(latencyMs * 1000));
    bucket.latency.recordValue(micros);
    this.overall.recordValue(micros);
    if (!ok) {
      bucket.errors++;
      this.#errors++;
    }
  }

  /** A request due at `t` ms was sent `lateMs` after its due time: the generator's own lateness. */
  sentLate(t: number, lateMs: number): void {
    const start = Math.floor(t / this.bucketMs) * this.bucketMs;
    this.#sendLate.set(start, Math.max(this.#sendLate.get(start) ?? 0, lateMs));
  }

  get errors(): number {
    return this.#errors;
  }

  get requests(): number {
    return this.overall.totalCount;
  }

  /** Overall percentile in ms, e.g. percentile(99). */
  percentile(p: number): number {
    return this.overall.getValueAtPercentile(p) / 1000;
  }

  /** Every request in the order they were recorded (finished). */
  samples(): readonly Sample[] {
    return this.#samples;
  }

  /** What a fault at `faultAtMs` did: `faultImpact` over the buckets, plus the exact first and last impact from the samples. */
  impactOf(faultAtMs: number, p99BudgetMs: number): FaultImpact & PreciseImpact {
    return {
      ...faultImpact(this.buckets(), faultAtMs, p99BudgetMs, this.bucketMs),
      ...preciseImpact(this.#samples, faultAtMs, p99BudgetMs),
    };
  }

  /** Each bucket's latency histogram (µs, `encodeIntoCompressedBase64`), in the order of `buckets()`: for merging exactly. */
  bucketHistograms(): string[] {
    return [...this.#buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, b]) => hdr.encodeIntoCompressedBase64(b.latency));
  }

  buckets(): Bucket[] {
    return [...this.#buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, b]) => bucketOf(t, b.requests, b.errors, b.latency, this.#sendLate.get(t)));
  }
}

/** A bucket as results keep it: its counts, its latency histogram's p50, p99 and max, and its engine's lateness. */
export function bucketOf(
  t: number,
  requests: number,
  errors: number,
  latency: hdr.Histogram,
  sendLateMs: number | undefined,
): Bucket {
  return {
    t,
    requests,
    errors,
    p50Ms: latency.getValueAtPercentile(50) / 1000,
    p99Ms: latency.getValueAtPercentile(99) / 1000,
    maxMs: latency.maxValue / 1000,
    ...(sendLateMs === undefined ? {} : { sendLateMs: Math.round(sendLateMs * 100) / 100 }),
  };
}

export interface FaultImpact {
  /** Failed requests due from the fault on. */
  errorsDuringFault: number;
  /** From the fault to the start of the first bucket after which every bucket has no error and p99 within budget; null when it never recovers in the run. */
  timeToRecoverMs: number | null;
  /** The worst bucket p99 from the fault on. */
  worstP99Ms: number;
}

/** What a fault at `faultAtMs` did to the load: errors, time to recover, worst p99 (buckets of `bucketMs`). */
export function faultImpact(buckets: Bucket[], faultAtMs: number, p99BudgetMs: number, bucketMs = 100): FaultImpact {
  const after = buckets.filter((b) => b.t + bucketMs > faultAtMs);
  const healthy = (b: Bucket) => b.errors === 0 && b.p99Ms <= p99BudgetMs;
  let recoveredAt: number | null = null;
  for (let i = after.length - 1; i >= 0; i--) {
    if (!healthy(after[i]!)) break;
    recoveredAt = after[i]!.t;
  }
  return {
    errorsDuringFault: after.reduce((n, b) => n + b.errors, 0),
    timeToRecoverMs: recoveredAt === null ? null : Math.max(0, recoveredAt - faultAtMs),
    worstP99Ms: after.reduce((worst, b) => Math.max(worst, b.p99Ms), 0),
  };
}

export interface PreciseImpact {
  /**
   * From the fault to the moment the first request that saw it (failed, or took longer
   * than the p99 budget) finished: how soon the load noticed, to the millisecond.
   */
  firstImpactMs: number | null;
  /** From the fault to the due time of the last request that saw it: when the harm ended, to the millisecond. */
  lastImpactMs: number | null;
}

/** The first and last requests a fault harmed, from the samples rather than the buckets. */
export function preciseImpact(samples: readonly Sample[], faultAtMs: number, p99BudgetMs: number): PreciseImpact {
  let firstSeen: number | null = null;
  let lastDue: number | null = null;
  for (const sample of samples) {
    const finished = sample.t + sample.latencyMs;
    if (finished < faultAtMs || (sample.ok && sample.latencyMs <= p99BudgetMs)) continue;
    firstSeen = firstSeen === null ? finished : Math.min(firstSeen, finished);
    lastDue = lastDue === null ? sample.t : Math.max(lastDue, sample.t);
  }
  return {
    firstImpactMs: firstSeen === null ? null : firstSeen - faultAtMs,
    lastImpactMs: lastDue === null ? null : Math.max(0, lastDue - faultAtMs),
  };
}
