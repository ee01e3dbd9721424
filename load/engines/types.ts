/**
 * What an engine hands back from its own process: counts, the per-bucket timeline and
 * the merged HDR histogram (compressed base64, so runs and workers can be merged).
 */
export interface EngineRequest {
  url: string;
  method?: string;
  /** Open model: requests per second, started on schedule. */
  rate?: number;
  /** Closed model: concurrent connections. */
  connections?: number;
  durationMs: number;
  /** Excluded from the figures (the first requests warm connections and caches). */
  warmupMs?: number;
  /** A request not answered in this time is an error. */
  timeoutMs?: number;
  /** `{id}` in the URL is drawn per request from this range (Zipf with `skew`; uniform when 0). */
  ids?: { from: number; to: number; skew: number };
}

export interface EngineReport {
  model: 'open' | 'closed';
  engine: 'dbproof-open' | 'autocannon';
  requests: number;
  errors: number;
  /** Measured span (after the warm-up), ms. */
  durationMs: number;
  /** The latency histogram in microseconds, `encodeIntoCompressedBase64`. */
  histogram: string;
  buckets: { t: number; requests: number; errors: number; p50Ms: number; p99Ms: number; maxMs: number }[];
}
