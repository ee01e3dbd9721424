/** One statement the database ran, from either capture path. */
export interface QueryEvent {
  fingerprint: string;
  /** The statement as sent (in-process) or as pg_stat_statements normalised it (black-box). */
  sql: string;
  /** The parameter values, when known (in-process). */
  params?: unknown[];
  durationMs: number;
  rows: number;
  /** Shared buffers hit or read (black-box only: pg_stat_statements). */
  buffers?: number;
  /** `primary`, `replica1`, … or `unknown` when the connection matches no node. */
  node: string;
  /** The calling site outside node_modules (file:line), in-process only. */
  site?: string;
  /** How many times it ran (black-box events aggregate one shape per interval). */
  calls: number;
}

/** Counts of one shape at each size the operation was run at. */
export interface ShapeCounts {
  fingerprint: string;
  exampleSql: string;
  exampleParams?: unknown[];
  site?: string;
  countsBySize: Record<number, number>;
}

export interface N1Finding {
  operation: string;
  fingerprint: string;
  exampleSql: string;
  exampleParams?: unknown[];
  countsBySize: Record<number, number>;
  /** Extra statements per extra item: about 1 for a plain N+1, M for a nested one. */
  slope: number;
  site?: string;
  hint: string;
}
