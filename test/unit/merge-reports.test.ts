// A load split over worker processes (issue 14) is reported as one: counts added and every
// histogram merged exactly, so the percentiles are those of all the requests together.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, test } from 'vitest';
import { mergeReports } from '../../load/engines/merge.ts';
import type { EngineReport } from '../../load/engines/types.ts';
import { Timeline } from '../../load/timeline.ts';

/** A worker's report of `latencies` (ms), all due at `t`, one mix entry each, as a recorder writes it. */
function workerReport(latencies: number[], t: number, extra: Partial<EngineReport> = {}): EngineReport {
  const timeline = new Timeline(100, { keepSamples: false });
  for (const latency of latencies) timeline.record(t, latency, latency < 1000);
  timeline.sentLate(t, latencies.length);
  const entry = hdr.encodeIntoCompressedBase64(timeline.overall);
  return {
    model: 'open',
    engine: 'dbproof-open',
    requests: timeline.requests,
    errors: timeline.errors,
    durationMs: 1000,
    histogram: entry,
    buckets: timeline.buckets(),
    bucketHistograms: timeline.bucketHistograms(),
    endpoints: [{ request: 'GET /x', requests: timeline.requests, errors: timeline.errors, histogram: entry }],
    ...extra,
  };
}

describe('merging the reports of a split load', () => {
  test('percentiles are those of all the requests together, not an average of the workers’', () => {
    // One worker saw 99 fast requests, the other one slow one: the p99 of 100 requests is fast.
    const fast = workerReport(
      Array.from({ length: 99 }, () => 1),
      0,
      { connections: 5, answeredMs: 990, waited: 2 },
    );
    const slow = workerReport([1500], 0, { connections: 5, answeredMs: 1200, unsent: 1 });
    const merged = mergeReports([fast, slow]);
    expect(merged).toMatchObject({ requests: 100, errors: 1, connections: 10, workers: 2, answeredMs: 1200 });
    expect(merged).toMatchObject({ waited: 2, unsent: 1 });
    const overall = hdr.decodeFromCompressedBase64(merged.histogram);
    expect(overall.getValueAtPercentile(99) / 1000).toBeCloseTo(1, 1);
    expect(overall.maxValue / 1000).toBeCloseTo(1500, -1);
    const [bucket] = merged.buckets;
    expect(bucket).toMatchObject({ t: 0, requests: 100, errors: 1, sendLateMs: 99 });
    expect(bucket!.p99Ms).toBeCloseTo(1, 1);
    expect(bucket!.maxMs).toBeCloseTo(1500, -1);
    expect(merged.endpoints).toEqual([expect.objectContaining({ request: 'GET /x', requests: 100, errors: 1 })]);
    expect(merged.bucketHistograms).toBeUndefined();
  });

  test('buckets of different times stay apart, in order', () => {
    const merged = mergeReports([workerReport([5], 200), workerReport([7], 0), workerReport([9], 200)]);
    expect(merged.buckets.map((b) => [b.t, b.requests])).toEqual([
      [0, 1],
      [200, 2],
    ]);
  });

  test('a single report is itself, without its bucket histograms, one worker', () => {
    const only = workerReport([3], 0);
    const { bucketHistograms: _, ...expected } = only;
    expect(mergeReports([only])).toEqual({ ...expected, workers: 1 });
  });
});
