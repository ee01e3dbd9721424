import * as hdr from 'hdr-histogram-js';
import { histogram, Timeline } from '../timeline.ts';
import type { EngineProgress, EngineReport, EngineRequest } from './types.ts';

/**
 * What an engine's process records: the measured span's timeline (the warm-up left out),
 * one histogram per mix entry, and, when asked, a progress line on stderr every few
 * seconds (the last interval's rate, p99 and errors) for the parent to show live.
 */
export class EngineRecorder {
  readonly #request: EngineRequest;
  readonly #warmupMs: number;
  readonly #timeline = new Timeline(100, { keepSamples: false });
  readonly #endpoints: { requests: number; errors: number; latency: hdr.Histogram }[];
  #interval = { requests: 0, errors: 0, latency: histogram(), since: 0 };
  #ticker: NodeJS.Timeout | undefined;
  readonly #started: number;
  /** When the last request answered as expected was recorded, a `performance.now()` value. */
  #lastAt: number;

  /** `started`: the engine's time 0, a `performance.now()` value (default: now). */
  constructor(request: EngineRequest, started = performance.now()) {
    this.#started = started;
    this.#lastAt = started;
    this.#request = request;
    this.#warmupMs = request.warmupMs ?? 0;
    this.#endpoints = (request.mix ?? []).map(() => ({ requests: 0, errors: 0, latency: histogram() }));
    if (request.progressEveryMs) {
      this.#ticker = setInterval(() => this.#progress(), request.progressEveryMs);
      this.#ticker.unref();
    }
  }

  /** A request to mix entry `endpoint`, sent (or due) at `t` ms after the engine started. */
  record(endpoint: number, t: number, latencyMs: number, ok: boolean): void {
    const micros = Math.max(1, Math.round(latencyMs * 1000));
    // When the last answer came: a time-out or an unsent request at the deadline is no answer.
    if (ok) this.#lastAt = performance.now();
    // The last interval's figures, for progress lines only: nobody reads them otherwise.
    if (this.#ticker) {
      this.#interval.requests++;
      this.#interval.latency.recordValue(micros);
      if (!ok) this.#interval.errors++;
    }
    if (t < this.#warmupMs) return;
    this.#timeline.record(t - this.#warmupMs, latencyMs, ok);
    const entry = this.#endpoints[endpoint];
    if (entry) {
      entry.requests++;
      entry.latency.recordValue(micros);
      if (!ok) entry.errors++;
    }
  }

  /** A request due at `t` ms after the engine started was sent `lateMs` after its due time. */
  sentLate(t: number, lateMs: number): void {
    if (t >= this.#warmupMs) this.#timeline.sentLate(t - this.#warmupMs, lateMs);
  }

  report(model: EngineReport['model'], engine: EngineReport['engine']): EngineReport {
    if (this.#ticker) clearInterval(this.#ticker);
    return {
      model,
      engine,
      requests: this.#timeline.requests,
      errors: this.#timeline.errors,
      durationMs: this.#request.durationMs,
      answeredMs: Math.max(0, this.#lastAt - this.#started - this.#warmupMs),
      histogram: hdr.encodeIntoCompressedBase64(this.#timeline.overall),
      buckets: this.#timeline.buckets(),
      // One worker of several: the parent merges the buckets' percentiles from these.
      ...(this.#request.worker ? { bucketHistograms: this.#timeline.bucketHistograms() } : {}),
      endpoints: (this.#request.mix ?? []).map((entry, i) => ({
        request: entry.request,
        requests: this.#endpoints[i]!.requests,
        errors: this.#endpoints[i]!.errors,
        histogram: hdr.encodeIntoCompressedBase64(this.#endpoints[i]!.latency),
      })),
    };
  }

  #progress(): void {
    const now = performance.now() - this.#started;
    const interval = this.#interval;
    const seconds = Math.max(0.001, (now - interval.since) / 1000);
    const progress: EngineProgress = {
      elapsedMs: Math.round(now - this.#warmupMs),
      requests: interval.requests,
      errors: interval.errors,
      rps: interval.requests / seconds,
      p99Ms: interval.latency.totalCount ? interval.latency.getValueAtPercentile(99) / 1000 : 0,
    };
    interval.latency.destroy();
    this.#interval = { requests: 0, errors: 0, latency: histogram(), since: now };
    process.stderr.write(`progress ${JSON.stringify(progress)}\n`);
  }
}
