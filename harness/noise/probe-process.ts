import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InfrastructureError } from '../errors.ts';

const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
/** Starting bare Node on a busy machine: generous. */
const PROBE_STARTUP_MS = 30_000;
/** How long the probe has to send its running bucket when asked; a stalled probe's buckets are filled in without it. */
const PROBE_ANSWER_MS = 2_000;
/** The probe's sleep between two wake-ups (probe.mjs's PERIOD_MS). */
export const PROBE_PERIOD_MS = 1;

/** A bucket as the probe reported it: its worst and p99 lateness (ms) and its wake-ups. */
export interface ProbeBucket {
  max: number;
  p99: number;
  n: number;
}

/**
 * The noise monitor's probe (probe.mjs) in its own process, and what it has reported. It
 * ends with this process, however this process ends: its stdin is a pipe from here.
 */
export class Probe {
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
    this.#holdEventLoop(false);
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
    // Awaited now: this process must not end before the probe has.
    this.#holdEventLoop(true);
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

  #holdEventLoop(hold: boolean): void {
    const handles = [this.#child, this.#child.stdin, this.#child.stdout, this.#child.stderr] as ({
      ref?: () => void;
      unref?: () => void;
    } | null)[];
    for (const handle of handles) (hold ? handle?.ref : handle?.unref)?.call(handle);
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

/** A line of the probe's JSON, or undefined for anything else (a warning Node printed, say). */
function parseLine<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
