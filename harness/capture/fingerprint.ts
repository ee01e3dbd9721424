import { fingerprintSync, loadModule, normalizeSync } from 'libpg-query';

let loaded: Promise<void> | undefined;

/** Loads the Postgres parser (WebAssembly) once; every other function here needs it first. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

export interface QueryShape {
  /** Postgres' own fingerprint: `id = 1` and `id = 2`, `IN (1,2)` and `IN (1,2,3)` are one shape. */
  fingerprint: string;
  /** The statement with its constants replaced by $n. */
  normalized: string;
}

const cache = new Map<string, QueryShape>();

/**
 * The shape of a statement by the real Postgres parser (libpg_query). Statements it
 * cannot parse (a driver's protocol-level command, a syntax error) get a shape of
 * their own text, so they are still counted, never merged with others.
 */
export function queryShape(sql: string): QueryShape {
  const cached = cache.get(sql);
  if (cached) return cached;
  let shape: QueryShape;
  try {
    const fingerprint = fingerprintSync(sql);
    // Some errors (an unterminated quoted string) come back as the result, not thrown.
    if (!/^[0-9a-f]{16}$/.test(fingerprint)) throw new Error(fingerprint);
    shape = { fingerprint, normalized: normalizeSync(sql) };
  } catch {
    shape = { fingerprint: `unparsed:${sql.trim().slice(0, 200)}`, normalized: sql.trim() };
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(sql, shape);
  return shape;
}
