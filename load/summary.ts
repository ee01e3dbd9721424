import * as hdr from 'hdr-histogram-js';
import type { EndpointReport, EngineReport } from './engines/types.ts';

/** What `dbproof load --json` prints: the model, counts, errors and the percentiles. */
export interface LoadSummary {
  model: 'open' | 'closed';
  /** dbproof's open model, autocannon, or k6 (`--engine k6`, a scenario's `engine: 'k6'`). */
  engine: EngineReport['engine'];
  rate: number | null;
  connections: number | null;
  durationMs: number;
  requests: number;
  errors: number;
  errorRate: number;
  /** Achieved: requests answered as expected per second of the measured span (never the target). */
  rps: number;
  /** The open model's target, requests per second; null for the closed model. */
  targetRps: number | null;
  /** Open model: requests due that were never sent (their connection stayed busy to the end), among the errors. */
  unsent?: number;
  /** Open model: requests that waited over 10 ms for a free connection (timed from their due time all the same). */
  waited?: number;
  /** Open model: the engine processes the schedule was split over. */
  workers?: number;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; 'p99.9': number; max: number; mean: number };
}

/** Counts, rps and percentiles of a share of a load: its requests, errors and HDR histogram (µs) over `durationMs`. */
function figures(
  counts: { requests: number; errors: number; histogram: string },
  durationMs: number,
): Pick<LoadSummary, 'requests' | 'errors' | 'errorRate' | 'rps' | 'latencyMs'> {
  const histogram = hdr.decodeFromCompressedBase64(counts.histogram);
  const at = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  const result = {
    requests: counts.requests,
    errors: counts.errors,
    errorRate: counts.requests ? counts.errors / counts.requests : 0,
    rps: (counts.requests - counts.errors) / (durationMs / 1000),
    latencyMs: {
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      'p99.9': at(99.9),
      max: histogram.maxValue / 1000,
      mean: histogram.mean / 1000,
    },
  };
  histogram.destroy();
  return result;
}

/** Percentiles from the engine's HDR histogram (recorded in microseconds). */
export function summarise(report: EngineReport, load: { rate?: number; connections?: number }): LoadSummary {
  return {
    model: report.model,
    engine: report.engine,
    rate: load.rate ?? null,
    connections: report.connections ?? load.connections ?? null,
    durationMs: report.durationMs,
    ...figures(report, Math.max(report.durationMs, report.answeredMs ?? 0)),
    targetRps: load.rate ?? null,
    ...(report.unsent === undefined ? {} : { unsent: report.unsent }),
    ...(report.waited === undefined ? {} : { waited: report.waited }),
    ...(report.workers === undefined ? {} : { workers: report.workers }),
  };
}

/**
 * What a load achieved against what was asked, for a person: `4980.2 requests/s answered
 * (target 5000/s); 12 never sent, 40 waited over 10 ms for a free connection`.
 */
export function describeThroughput(summary: {
  rps: number;
  targetRps?: number | null;
  unsent?: number;
  waited?: number;
}): string {
  const target = summary.targetRps ? ` (target ${summary.targetRps}/s)` : '';
  const short = [
    summary.unsent ? `${summary.unsent} never sent (their connection stayed busy to the end)` : '',
    summary.waited ? `${summary.waited} waited over 10 ms for a free connection` : '',
  ].filter(Boolean);
  return `${summary.rps.toFixed(1)} requests/s answered${target}${short.length ? `; ${short.join(', ')}` : ''}`;
}

/** A mix entry's own figures, measured over the scenario's span. */
export function summariseEndpoint(
  endpoint: EndpointReport,
  durationMs: number,
): Pick<LoadSummary, 'requests' | 'errors' | 'errorRate' | 'rps' | 'latencyMs'> {
  return figures(endpoint, durationMs);
}
