import type { SeenAnswer } from '../../harness/http/seen.ts';
import type { Bucket } from '../../harness/results/schema.ts';
/**
 * What an engine hands back from its own process: counts, the per-bucket timeline and
 * the merged HDR histogram (compressed base64, so runs and workers can be merged).
 */
export interface EngineRequest {
  url: string;
  /**
   * Every instance's base URL (`app.instances`), when there is more than one: the load is
   * spread over them as a balancer would, connection c to instance c mod N (the open model;
   * the closed model's clients likewise, by autocannon). `url`'s path and query are sent to each.
   */
  instances?: string[];
  method?: string;
  /**
   * The single request as the scenario wrote it (`GET /media/{id}`), the name its answers are
   * kept under for the headers suite; `url` is percent-encoded by then. Without it, from `url`.
   */
  written?: string;
  /** Open model: requests per second, started on schedule. */
  rate?: number;
  /**
   * Closed model: concurrent clients. Open model: the fixed set of connections the schedule
   * is spread over (default `defaultConnections(rate)`).
   */
  connections?: number;
  durationMs: number;
  /** Excluded from the figures (the first requests warm connections and caches). */
  warmupMs?: number;
  /** A request not answered in this time is an error. */
  timeoutMs?: number;
  /** `{id}` in the URL is drawn per request from this range (Zipf with `skew`; uniform when 0). */
  ids?: { from: number; to: number; skew: number };
  /**
   * A weighted request mix instead of the URL's own path: each request picks one entry
   * (seeded, so a run replays the same sequence), against the URL's origin. Each entry is
   * also measured on its own (`EngineReport.endpoints`), for per-endpoint budgets.
   */
  mix?: MixEntry[];
  /** Progress lines on stderr (`progress {json}`) every this many ms; none when absent. */
  progressEveryMs?: number;
  /** Open model: engine processes to spread the schedule over (default `defaultWorkers(rate)`). */
  workers?: number;
  /** Set by `runEngine` for one worker of several: its index, and how many there are. */
  worker?: { index: number; of: number };
}

export interface MixEntry {
  /** As written in the scenario, e.g. `GET /inspections/{id}`: names the endpoint in results. */
  request: string;
  method: string;
  /** Path and query; `{id}` drawn from `ids`. */
  path: string;
  weight: number;
}

/** One mix entry's own figures. */
export interface EndpointReport {
  request: string;
  requests: number;
  errors: number;
  histogram: string;
}

/** What an engine reports while it runs (the last second): for live progress. */
export interface EngineProgress {
  /** ms since the measured span started (negative in the warm-up). */
  elapsedMs: number;
  requests: number;
  errors: number;
  rps: number;
  p99Ms: number;
}

export interface EngineReport {
  model: 'open' | 'closed';
  engine: 'dbproof-open' | 'autocannon' | 'k6';
  requests: number;
  errors: number;
  /** Measured span (after the warm-up), ms. */
  durationMs: number;
  /**
   * When the last request answered as expected was recorded, ms after the measured span began: past `durationMs`
   * when answers kept coming after the last request was due (a backlog drained late). The
   * achieved rate counts over the longer of the two.
   */
  answeredMs?: number;
  /** The latency histogram in microseconds, `encodeIntoCompressedBase64`. */
  histogram: string;
  buckets: Bucket[];
  /** Per mix entry, in the mix's order; empty for a single request. */
  endpoints: EndpointReport[];
  /** Open model: the connections it used. */
  connections?: number;
  /** Open model: the engine processes it ran in. */
  workers?: number;
  /** A worker's per-bucket latency histograms, in the order of `buckets` (merged away by `runEngine`). */
  bucketHistograms?: string[];
  /** Open model: requests due that were never sent (their connection stayed busy to the end); counted as failed. */
  unsent?: number;
  /** Open model: requests that waited over 10 ms for their connection (timed from their due time all the same). */
  waited?: number;
  /**
   * One answer of each kind the engine got (instance, request as written, status; see
   * harness/http/seen.ts), for the headers suite; a split load's merged. Not in results.
   */
  seen?: SeenAnswer[];
}

/**
 * The open model's connections when none are given: one per 100 requests/s, at least 10 and
 * at most 200. Each connection then has 10 ms or more between its requests, so a server
 * answering within that keeps up on them; a slower one makes requests wait for their
 * connection (counted in `waited`, timed from their due time): raise `connections`.
 */
export function defaultConnections(rate: number): number {
  return Math.min(200, Math.max(10, Math.ceil(rate / 100)));
}

/** Requests/s one engine process carries with room to spare (measured: ~35,000/s at its limit on one core). */
export const RATE_PER_WORKER = 20_000;

/**
 * The open model's engine processes when none are given: one per `RATE_PER_WORKER`
 * requests/s (the schedule split between them, histograms merged exactly), one where a
 * single process keeps up, and a core left for the server: on the same machine, a second
 * worker on 2 cores starved it (measured at 29,000/s: 77 % achieved with 2 workers, 100 %
 * with 1).
 */
export function defaultWorkers(rate: number, cores: number): number {
  return Math.max(1, Math.min(cores - 1, Math.ceil(rate / RATE_PER_WORKER)));
}
