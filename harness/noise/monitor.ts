import os from 'node:os';
import { z } from 'zod';
import { UsageError, zodIssue } from '../errors.ts';
import type { Party, PartyPids } from './parties.ts';
import { Probe, PROBE_PERIOD_MS, type ProbeBucket } from './probe-process.ts';
import { type NoiseBucket, type NoiseRecord, SATURATION, type SaturationThresholds, summariseNoise } from './record.ts';
import type { CpuTimes } from './proc.ts';
import { clockTicksPerSecond, ProcSampler, type ProcReading } from './sampler.ts';
import { BucketSeries } from './series.ts';

/**
 * How often who used the CPU is read: every process's /proc/<pid>/stat, 1 to 2 ms of CPU a
 * time on a 2-core CI machine, so every 100 ms would cost 1 to 2 % of a core. A process's
 * CPU counts in whole ticks (10 ms): over 100 ms that is 0.1 core steps, over 500 ms finer.
 * The probe and CPU pressure, read every bucket, see a short stall; who caused it is read
 * at this pace.
 */
const PARTIES_EVERY_MS = 500;

const BUCKET_MS = (issue: { input?: unknown }) =>
  `give a whole number of ms from 10 to 10000 (got ${String(issue.input)}), or leave it out for 100`;

export const noiseMonitorOptionsSchema = z.object({
  /** The length of a bucket, ms: the monitor's resolution in time. */
  bucketMs: z
    .number({ error: BUCKET_MS })
    .int({ error: BUCKET_MS })
    .min(10, { error: BUCKET_MS })
    .max(10_000, { error: BUCKET_MS })
    .default(100),
});

export interface NoiseMonitorOptions {
  /** The length of a bucket in ms, 10 to 10000; 100 if left out. */
  bucketMs?: number;
  /**
   * The processes whose CPU use is counted apart, each with the processes below it; asked
   * at every reading of the parties (every 500 ms), so a process started later is counted
   * from then on. If left out: this process as dbproof, nothing as the app or Postgres.
   */
  pids?: () => PartyPids;
  /** What stop()'s and record()'s summary call saturated; SATURATION if left out. */
  thresholds?: SaturationThresholds;
}

export interface NoiseMonitor {
  /** The probe's process id (a test stops it with SIGSTOP to fake a stall). */
  readonly probePid: number;
  readonly bucketMs: number;
  /** ms since the monitor started: mark a window with it, and judge it with `noiseBetween(record, from, to)`. */
  now(): number;
  /** What was recorded up to now; the monitor keeps running. */
  record(): Promise<NoiseRecord>;
  /** Ends the probe and the sampling, and returns the record. Calling it again returns the same record. */
  stop(): Promise<NoiseRecord>;
}

/**
 * Measures the measuring machine until `stop()`: per bucket, how late a probe process's
 * 1 ms wake-ups came (CPU starvation, whoever causes it), CPU pressure and steal, and the
 * cores used by dbproof, the app and Postgres. The probe ends with this process, however
 * this process ends. Resolves once the probe runs: the record's time starts there.
 */
export async function startNoiseMonitor(options: NoiseMonitorOptions = {}): Promise<NoiseMonitor> {
  const parsed = noiseMonitorOptionsSchema.safeParse({ bucketMs: options.bucketMs });
  if (!parsed.success) throw new UsageError(`noise monitor: ${zodIssue(parsed.error, 'options')}`);
  const pids = options.pids ?? (() => ({ dbproof: [process.pid], app: [], postgres: [] }));
  const ticksPerSecond = clockTicksPerSecond();
  const probe = await Probe.start(parsed.data.bucketMs);
  return new RunningMonitor(probe, parsed.data.bucketMs, new ProcSampler(pids), ticksPerSecond, options.thresholds);
}

class RunningMonitor implements NoiseMonitor {
  readonly bucketMs: number;
  readonly #probe: Probe;
  readonly #sampler: ProcSampler;
  readonly #ticksPerSecond: number;
  readonly #thresholds: SaturationThresholds;
  readonly #startedAt = new Date().toISOString();
  readonly #pressure: BucketSeries;
  readonly #steal: BucketSeries;
  readonly #machine: BucketSeries;
  readonly #idle: BucketSeries;
  readonly #cores: Record<Party, BucketSeries>;
  #last: { at: number; reading: ProcReading };
  #lastParties: { at: number; cpu: CpuTimes | null };
  #timer: NodeJS.Timeout | undefined;
  #stopped: Promise<NoiseRecord> | undefined;

  constructor(
    probe: Probe,
    bucketMs: number,
    sampler: ProcSampler,
    ticksPerSecond: number,
    thresholds: SaturationThresholds = SATURATION,
  ) {
    this.#probe = probe;
    this.bucketMs = bucketMs;
    this.#sampler = sampler;
    this.#ticksPerSecond = ticksPerSecond;
    this.#thresholds = thresholds;
    const series = () => new BucketSeries(bucketMs);
    this.#pressure = series();
    this.#steal = series();
    this.#machine = series();
    this.#idle = series();
    this.#cores = { dbproof: series(), app: series(), postgres: series() };
    const first = { at: this.now(), reading: sampler.read(true) };
    this.#last = first;
    this.#lastParties = { at: first.at, cpu: first.reading.cpu };
    this.#schedule();
  }

  get probePid(): number {
    return this.#probe.pid;
  }

  now(): number {
    return this.#probe.nowMs();
  }

  async record(): Promise<NoiseRecord> {
    if (this.#stopped) return this.#stopped;
    const until = this.#sample(true);
    await this.#probe.flush();
    return this.#build(until);
  }

  stop(): Promise<NoiseRecord> {
    this.#stopped ??= (async () => {
      clearTimeout(this.#timer);
      const until = this.#sample(true);
      await this.#probe.stop();
      return this.#build(until);
    })();
    return this.#stopped;
  }

  /** The next reading at the next bucket's start, so that an interval seldom straddles two buckets. */
  #schedule(): void {
    const wait = this.bucketMs - (this.now() % this.bucketMs);
    this.#timer = setTimeout(() => {
      this.#sample();
      this.#schedule();
    }, wait + 1);
    this.#timer.unref();
  }

  /**
   * Reads the counters and adds the rates since the last reading; every 500 ms (and for a
   * record), who used the CPU as well. Returns the time read.
   */
  #sample(final = false): number {
    const at = this.now();
    const partiesDue = final || at - this.#lastParties.at >= PARTIES_EVERY_MS - this.bucketMs / 2;
    const reading = this.#sampler.read(partiesDue);
    const { at: from, reading: last } = this.#last;
    this.#last = { at, reading };
    if (reading.partyTicks) this.#addCpuUse(at, reading);
    const seconds = (at - from) / 1000;
    if (seconds <= 0) return at;
    if (reading.pressureUs !== null && last.pressureUs !== null) {
      const share = (reading.pressureUs - last.pressureUs) / (seconds * 1e6);
      this.#pressure.add(from, at, Math.min(1, Math.max(0, share)));
    }
    const total = reading.cpu && last.cpu ? reading.cpu.total - last.cpu.total : 0;
    if (reading.cpu?.steal != null && last.cpu?.steal != null && total > 0)
      this.#steal.add(from, at, (reading.cpu.steal - last.cpu.steal) / total);
    return at;
  }

  /**
   * The cores each party, and the whole machine, used since the parties were last read.
   * The machine's figures are taken over the same interval as the parties', so that what
   * is left for someone else (machine − parties) compares like with like: a burst of the
   * app's inside 500 ms is not someone else's.
   */
  #addCpuUse(at: number, reading: ProcReading): void {
    const { at: from, cpu: last } = this.#lastParties;
    this.#lastParties = { at, cpu: reading.cpu };
    if (at <= from || !reading.partyTicks) return;
    const cores = (ticks: number) => ticks / this.#ticksPerSecond / ((at - from) / 1000);
    for (const party of ['dbproof', 'app', 'postgres'] as const)
      this.#cores[party].add(from, at, cores(reading.partyTicks[party]));
    if (reading.cpu && last) {
      this.#machine.add(from, at, cores(reading.cpu.busy - last.busy));
      this.#idle.add(from, at, cores(reading.cpu.idle - last.idle));
    }
  }

  #build(until: number): NoiseRecord {
    const count = Math.max(1, Math.ceil(until / this.bucketMs));
    const buckets: NoiseBucket[] = [];
    for (let index = 0; index < count; index++) {
      const probe = this.#probeBucket(index, until);
      const cores = (series: BucketSeries) => round(series.at(index) ?? 0, 3);
      buckets.push({
        t: index * this.bucketMs,
        probeMaxMs: probe && round(probe.max, 3),
        probeP99Ms: probe && round(probe.p99, 3),
        wakeups: probe?.n ?? 0,
        cpuPressure: nullableRound(this.#pressure.at(index), 4),
        steal: nullableRound(this.#steal.at(index), 4),
        cpu: {
          dbproof: cores(this.#cores.dbproof),
          app: cores(this.#cores.app),
          postgres: cores(this.#cores.postgres),
          machine: nullableRound(this.#machine.at(index), 3),
          idle: nullableRound(this.#idle.at(index), 3),
        },
      });
    }
    return {
      startedAt: this.#startedAt,
      bucketMs: this.bucketMs,
      cores: os.availableParallelism(),
      buckets,
      summary: summariseNoise(buckets, this.#thresholds),
    };
  }

  /**
   * What the probe reported for bucket `index`. A bucket it did not report, though it runs,
   * it was stalled in, and did not answer when asked: its next wake-up is already late by
   * the time since it was due, and a late wake-up counts in every bucket it was awaited in.
   * Null for a bucket the probe did not report before it was lost.
   */
  #probeBucket(index: number, until: number): ProbeBucket | null {
    const reported = this.#probe.buckets.get(index);
    if (reported) return reported;
    if (this.#probe.lostAtMs !== null) return null;
    const late = Math.max(0, until - (this.#probe.lastWakeupMs + PROBE_PERIOD_MS));
    return { max: late, p99: late, n: 0 };
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function nullableRound(value: number | null, digits: number): number | null {
  return value === null ? null : round(value, digits);
}
