import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InfrastructureError, UsageError, zodIssue } from '../errors.ts';
import type { Party, PartyPids } from './parties.ts';
import { type NoiseBucket, type NoiseRecord, SATURATION, type SaturationThresholds, summariseNoise } from './record.ts';
import { clockTicksPerSecond, ProcSampler, type ProcReading } from './sampler.ts';
import { BucketSeries } from './series.ts';

const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
/** Starting bare Node on a busy machine: generous. */
const PROBE_STARTUP_MS = 30_000;
/** How long the probe has to send its running bucket when asked; a stalled probe's buckets are filled in without it. */
const PROBE_ANSWER_MS = 2_000;
/** The probe's sleep between two wake-ups (probe.mjs's PERIOD_MS). */
const PROBE_PERIOD_MS = 1;

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
   * at every bucket, so a process started later is counted from then on. If left out:
   * this process as dbproof, nothing as the app or Postgres.
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

interface ProbeBucket {
  max: number;
  p99: number;
  n: number;
}

/** The probe process, and what it has reported. */
class Probe {
  readonly #child: ChildProcess;
  readonly originNs: bigint;
  readonly buckets = new Map<number, ProbeBucket>();
  /** ms (after the origin) of the last wake-up the probe reported. */
  lastWakeupMs = 0;
  /** ms (after the origin) at which the probe was found gone without being asked to stop; null while it runs. */
  lostAtMs: number | null = null;
  readonly #closed: Promise<void>;
  #answered: (() => void)[] = [];
  #stopping = false;

  private constructor(child: ChildProcess, originNs: bigint, lines: LineReader) {
    this.#child = child;
    this.originNs = originNs;
    lines.onLine = (line) => this.#take(line);
    this.#closed = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('exit', () => {
      if (!this.#stopping) this.lostAtMs = this.nowMs();
      this.#answer();
    });
    // Neither the probe nor its pipes keep this process alive: the monitor is no reason to
    // stay, and when this process goes, the probe follows (its stdin closes).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void }).unref?.();
    process.once('exit', this.#kill);
  }

  static start(bucketMs: number): Promise<Probe> {
    const child = spawn(process.execPath, [PROBE, String(bucketMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.on('error', () => {});
    const lines = new LineReader(child.stdout!);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    const cannot = (why: string) =>
      new InfrastructureError(
        `the noise monitor's probe could not start (${why}): it runs ${PROBE} with this Node.js (${process.execPath}); check that both exist and that processes can be started`,
      );
    return new Promise((resolve, reject) => {
      const fail = (error: InfrastructureError) => {
        settle();
        child.kill('SIGKILL');
        reject(error);
      };
      const failed = (error: Error) => fail(cannot(error.message));
      const exited = (code: number | null, signal: NodeJS.Signals | null) => {
        const said = stderr.trim().split('\n').pop();
        fail(cannot(`it exited with ${signal ?? `code ${code}`}${said ? `: ${said}` : ''}`));
      };
      const deadline = setTimeout(
        () => fail(cannot(`no answer within ${PROBE_STARTUP_MS / 1000} s`)),
        PROBE_STARTUP_MS,
      );
      const settle = () => {
        clearTimeout(deadline);
        child.off('exit', exited);
        child.off('error', failed);
        lines.onLine = () => {};
      };
      child.on('error', failed);
      child.once('exit', exited);
      lines.onLine = (line) => {
        const ready = parseLine<{ ready?: string }>(line)?.ready;
        if (ready === undefined) return;
        settle();
        child.on('error', () => {});
        resolve(new Probe(child, BigInt(ready), lines));
      };
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** ms since the probe's origin, on the same monotonic clock the probe reads. */
  nowMs(): number {
    return Number(process.hrtime.bigint() - this.originNs) / 1e6;
  }

  /** Asks for the running bucket; resolves when it has come, the probe is gone, or it did not answer in time. */
  async flush(): Promise<void> {
    if (this.lostAtMs !== null) return;
    await this.#ask('flush', () => new Promise<void>((resolve) => this.#answered.push(resolve)));
  }

  /** Asks the probe for its last bucket and to exit; kills it when it does not in time. */
  async stop(): Promise<void> {
    this.#stopping = true;
    process.off('exit', this.#kill);
    if (this.lostAtMs === null) await this.#ask('stop', () => this.#closed);
    this.#child.kill('SIGKILL');
    await this.#closed;
  }

  async #ask(command: string, answer: () => Promise<void>): Promise<void> {
    this.#child.stdin!.write(`${command}\n`);
    let timer: NodeJS.Timeout | undefined;
    // A timer that holds the event loop, so the answer is read even where nothing else runs.
    await Promise.race([answer(), new Promise<void>((resolve) => (timer = setTimeout(resolve, PROBE_ANSWER_MS)))]);
    clearTimeout(timer);
  }

  #take(line: string): void {
    const report = parseLine<{ b: number; n: number; max: number; p99: number; at: number; open?: boolean }>(line);
    if (!report) return;
    this.buckets.set(report.b, { max: report.max, p99: report.p99, n: report.n });
    this.lastWakeupMs = Math.max(this.lastWakeupMs, report.at);
    if (report.open) this.#answer();
  }

  #answer(): void {
    for (const resolve of this.#answered.splice(0)) resolve();
  }

  readonly #kill = () => {
    this.#child.kill('SIGKILL');
  };
}

/** Splits a stream into lines. */
class LineReader {
  onLine: (line: string) => void = () => {};
  #partial = '';

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (this.#partial + chunk).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) if (line) this.onLine(line);
    });
  }
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
  readonly #cores: Record<Party, BucketSeries>;
  #last: { at: number; reading: ProcReading };
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
    this.#cores = { dbproof: series(), app: series(), postgres: series() };
    this.#last = { at: this.now(), reading: sampler.read() };
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
    const until = this.#sample();
    await this.#probe.flush();
    return this.#build(until);
  }

  stop(): Promise<NoiseRecord> {
    this.#stopped ??= (async () => {
      clearTimeout(this.#timer);
      const until = this.#sample();
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

  /** Reads the counters and adds the rates since the last reading; returns the time read. */
  #sample(): number {
    const at = this.now();
    const reading = this.#sampler.read();
    const { at: from, reading: last } = this.#last;
    this.#last = { at, reading };
    const seconds = (at - from) / 1000;
    if (seconds <= 0) return at;
    if (reading.pressureUs !== null && last.pressureUs !== null) {
      const share = (reading.pressureUs - last.pressureUs) / (seconds * 1e6);
      this.#pressure.add(from, at, Math.min(1, Math.max(0, share)));
    }
    if (reading.cpu && last.cpu) {
      const total = reading.cpu.total - last.cpu.total;
      if (reading.cpu.steal !== null && last.cpu.steal !== null && total > 0)
        this.#steal.add(from, at, (reading.cpu.steal - last.cpu.steal) / total);
      this.#machine.add(from, at, (reading.cpu.busy - last.cpu.busy) / this.#ticksPerSecond / seconds);
    }
    for (const party of ['dbproof', 'app', 'postgres'] as const)
      this.#cores[party].add(from, at, reading.partyTicks[party] / this.#ticksPerSecond / seconds);
    return at;
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

/** A line of the probe's JSON, or undefined for anything else (a warning Node printed, say). */
function parseLine<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
