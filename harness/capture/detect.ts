import { UsageError } from '../errors.ts';
import type { N1Finding, QueryEvent, ShapeCounts } from './types.ts';

/** The statements of one operation run at one size (e.g. K = 25 items). */
export interface SizedRun {
  size: number;
  events: QueryEvent[];
}

export function validateSizes(sizes: number[]): void {
  if (sizes.length < 2)
    throw new UsageError(`an N+1 check needs at least two sizes (got ${sizes.length}), e.g. --sizes 5,25`);
  for (let i = 1; i < sizes.length; i++) {
    if (!(sizes[i]! > sizes[i - 1]!))
      throw new UsageError(`sizes must be increasing (got ${sizes.join(', ')}), e.g. 5,25`);
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 1))
    throw new UsageError(`sizes must be whole numbers ≥ 1 (got ${sizes.join(', ')})`);
}

/** Statement counts per shape at each size (a shape absent at a size counts 0). */
export function countShapes(runs: SizedRun[]): ShapeCounts[] {
  const shapes = new Map<string, ShapeCounts>();
  for (const run of runs) {
    for (const event of run.events) {
      let shape = shapes.get(event.fingerprint);
      if (!shape) {
        shape = {
          fingerprint: event.fingerprint,
          exampleSql: event.sql,
          exampleParams: event.params,
          site: event.site,
          countsBySize: Object.fromEntries(runs.map((r) => [r.size, 0])),
        };
        shapes.set(event.fingerprint, shape);
      }
      shape.countsBySize[run.size] = (shape.countsBySize[run.size] ?? 0) + event.calls;
    }
  }
  return [...shapes.values()];
}

function hintFor(sql: string): string {
  if (/\bjoin\b/i.test(sql))
    return 'fetch these rows for all items at once (one query with `= ANY($1)` on the item ids) instead of one per item';
  if (/\bwhere\b[\s\S]*=\s*\$\d+/i.test(sql))
    return 'batch it: one query with `WHERE … = ANY($1)` over all the ids (or join it into the list query, or eager-load in the ORM) instead of one per item';
  return 'run it once for the whole list (join, `= ANY($1)` or eager loading) instead of once per item';
}

/**
 * A shape whose count grows with the size is an N+1; one whose count stays the same
 * is not, however large. "Grows" means: never fewer at a larger size, and at least
 * half a statement more per extra item between the smallest and largest size (a
 * stray extra statement is not a slope). Nested N+1s (1 + K + K·M) show as shapes
 * with slopes 1 and M.
 */
export function findNPlusOne(operation: string, runs: SizedRun[]): N1Finding[] {
  const sizes = runs.map((r) => r.size);
  validateSizes(sizes);
  const first = sizes[0]!;
  const last = sizes.at(-1)!;
  const findings: N1Finding[] = [];
  for (const shape of countShapes(runs)) {
    const counts = sizes.map((s) => shape.countsBySize[s] ?? 0);
    const monotonic = counts.every((c, i) => i === 0 || c >= counts[i - 1]!);
    const slope = (counts.at(-1)! - counts[0]!) / (last - first);
    if (monotonic && slope >= 0.5) {
      findings.push({
        operation,
        fingerprint: shape.fingerprint,
        exampleSql: shape.exampleSql,
        exampleParams: shape.exampleParams,
        countsBySize: shape.countsBySize,
        slope: Math.round(slope * 100) / 100,
        site: shape.site,
        hint: hintFor(shape.exampleSql),
      });
    }
  }
  return findings.sort((a, b) => b.slope - a.slope);
}

/** Queries and database time per request, against explicit budgets. */
export function perRequestTotals(events: QueryEvent[]): { queries: number; dbMs: number } {
  return { queries: events.reduce((n, e) => n + e.calls, 0), dbMs: events.reduce((ms, e) => ms + e.durationMs, 0) };
}
