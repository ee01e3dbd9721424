import type { EngineProgress } from './engines/types.ts';

export interface ProgressOptions {
  /** What runs, e.g. `load checkout`. */
  label: string;
  /** The measured span, to show how far along the load is. */
  durationMs: number;
  /** Where to write (default stderr). */
  stream?: NodeJS.WriteStream;
  /** Live (a line rewritten in place every second) or plain lines every `everyMs`. Default: live on a terminal outside CI. */
  live?: boolean;
  /** Plain mode: a line at most this often (default 5 s). */
  everyMs?: number;
}

const format = (label: string, p: EngineProgress & { durationMs: number }, p99Label = 'p99') => {
  const at =
    p.elapsedMs < 0
      ? `warm-up ${(-p.elapsedMs / 1000).toFixed(0)} s left`
      : `${(Math.min(p.elapsedMs, p.durationMs) / 1000) | 0}/${(p.durationMs / 1000) | 0} s`;
  return `${label}: ${at} · ${p.rps.toFixed(0)} req/s · ${p99Label} ${p.p99Ms.toFixed(1)} ms · ${p.errors} errors`;
};

/**
 * Progress of a long load: on a terminal, one line rewritten in place with the last
 * second's requests/s, p99 and errors; in CI (or any log), the same as a plain line every
 * few seconds (over the interval since the last line), so a log shows the run is alive
 * without a line per second.
 */
export function progressReporter(options: ProgressOptions): {
  onProgress(progress: EngineProgress): void;
  done(): void;
} {
  const stream = options.stream ?? process.stderr;
  const live = options.live ?? (Boolean(stream.isTTY) && !process.env.CI);
  const everyMs = options.everyMs ?? 5000;
  let pending = { requests: 0, errors: 0, seconds: 0, p99Ms: 0 };
  let lastLine = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    onProgress(progress) {
      if (live) {
        stream.write(`\r\x1b[2K${format(options.label, { ...progress, durationMs: options.durationMs })}`);
        shown = true;
        return;
      }
      const seconds = progress.rps > 0 ? progress.requests / progress.rps : 1;
      pending = {
        requests: pending.requests + progress.requests,
        errors: pending.errors + progress.errors,
        seconds: pending.seconds + seconds,
        p99Ms: Math.max(pending.p99Ms, progress.p99Ms),
      };
      if (progress.elapsedMs - lastLine < everyMs) return;
      lastLine = progress.elapsedMs;
      stream.write(
        `${format(options.label, { elapsedMs: progress.elapsedMs, requests: pending.requests, errors: pending.errors, rps: pending.requests / Math.max(pending.seconds, 0.001), p99Ms: pending.p99Ms, durationMs: options.durationMs }, 'worst 1-s p99')}\n`,
      );
      pending = { requests: 0, errors: 0, seconds: 0, p99Ms: 0 };
    },
    done() {
      if (live && shown) stream.write('\r\x1b[2K');
    },
  };
}
