import * as hdr from 'hdr-histogram-js';
import { type SeenAnswer, SeenAnswers } from '../../harness/http/seen.ts';
import { type Bucket, bucketOf, histogram } from '../timeline.ts';
import type { EngineReport } from './types.ts';

/** The first answer of each kind over every worker (a worker's own list is already one of each). */
function mergedSeen(reports: readonly EngineReport[]): SeenAnswer[] {
  const seen = new SeenAnswers();
  for (const report of reports) seen.addAll(report.seen);
  return seen.list();
}

/** Adds the encoded histogram `encoded` into `into`. */
function addEncoded(into: hdr.Histogram, encoded: string): void {
  const part = hdr.decodeFromCompressedBase64(encoded);
  into.add(part);
  part.destroy();
}

/**
 * One report from the reports of the workers a load was split over: counts added, every
 * histogram merged exactly (the overall one, each 100 ms bucket's, each mix entry's), so
 * the percentiles are those of all the requests together, never an average of percentiles.
 */
export function mergeReports(reports: readonly EngineReport[]): EngineReport {
  const strip = ({ bucketHistograms: _, ...report }: EngineReport): EngineReport => report;
  if (reports.length === 1) return { ...strip(reports[0]!), ...(reports[0]!.model === 'open' ? { workers: 1 } : {}) };
  const overall = histogram();
  const buckets = new Map<number, { requests: number; errors: number; latency: hdr.Histogram; late?: number }>();
  for (const report of reports) {
    addEncoded(overall, report.histogram);
    report.buckets.forEach((bucket, i) => {
      let merged = buckets.get(bucket.t);
      if (!merged) {
        merged = { requests: 0, errors: 0, latency: histogram() };
        buckets.set(bucket.t, merged);
      }
      merged.requests += bucket.requests;
      merged.errors += bucket.errors;
      const encoded = report.bucketHistograms?.[i];
      if (encoded) addEncoded(merged.latency, encoded);
      if (bucket.sendLateMs !== undefined) merged.late = Math.max(merged.late ?? 0, bucket.sendLateMs);
    });
  }
  const endpoints = reports[0]!.endpoints.map((entry, i) => {
    const latency = histogram();
    let requests = 0;
    let errors = 0;
    for (const report of reports) {
      const own = report.endpoints[i]!;
      requests += own.requests;
      errors += own.errors;
      addEncoded(latency, own.histogram);
    }
    const merged = { request: entry.request, requests, errors, histogram: hdr.encodeIntoCompressedBase64(latency) };
    latency.destroy();
    return merged;
  });
  const mergedBuckets: Bucket[] = [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, b]) => {
      const bucket = bucketOf(t, b.requests, b.errors, b.latency, b.late);
      b.latency.destroy();
      return bucket;
    });
  const sum = (pick: (report: EngineReport) => number | undefined) =>
    reports.reduce((total, report) => total + (pick(report) ?? 0), 0);
  const merged: EngineReport = {
    model: reports[0]!.model,
    engine: reports[0]!.engine,
    requests: sum((r) => r.requests),
    errors: sum((r) => r.errors),
    durationMs: reports[0]!.durationMs,
    answeredMs: Math.max(...reports.map((r) => r.answeredMs ?? 0)),
    histogram: hdr.encodeIntoCompressedBase64(overall),
    buckets: mergedBuckets,
    endpoints,
    connections: sum((r) => r.connections),
    workers: reports.length,
    unsent: sum((r) => r.unsent),
    waited: sum((r) => r.waited),
    seen: mergedSeen(reports),
  };
  overall.destroy();
  return merged;
}
