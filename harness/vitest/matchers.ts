/**
 * Matchers for N+1 and query budgets:
 *
 *   await expect((k) => service.mediaFor(inspection, k)).toHaveNoNPlusOne({ sizes: [5, 25] });
 *   const { events } = await captureQueries(() => service.listJoined(db, 10));
 *   expect(events).toHaveQueryCount(1);
 *   expect(events).toStayWithinQueryBudget({ maxQueries: 3, maxDbMs: 50 });
 */
import { expect } from 'vitest';
import { perRequestTotals } from '../capture/detect.ts';
import type { KnownNode } from '../capture/in-process.ts';
import { checkOperation, formatReport } from '../capture/n1.ts';
import type { QueryEvent } from '../capture/types.ts';

export interface NPlusOneOptions {
  sizes?: number[];
  nodes?: KnownNode[];
  operation?: string;
}

interface DbproofMatchers<R = unknown> {
  /** The operation, run at each size, has no statement whose count grows with the size. */
  toHaveNoNPlusOne(options?: NPlusOneOptions): Promise<R>;
  /** Exactly `count` statements were captured. */
  toHaveQueryCount(count: number): R;
  /** At most `maxQueries` statements and `maxDbMs` of database time. */
  toStayWithinQueryBudget(budget: { maxQueries?: number; maxDbMs?: number }): R;
}

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: the augmentation must repeat Vitest's own declaration, `Matchers<T = any>`
  interface Matchers<T = any> extends DbproofMatchers<T> {}
}

function eventsOf(received: unknown): QueryEvent[] {
  if (Array.isArray(received)) return received as QueryEvent[];
  if (received && typeof received === 'object' && Array.isArray((received as { events?: unknown }).events))
    return (received as { events: QueryEvent[] }).events;
  throw new TypeError('expected captured queries: the events of captureQueries(), or the result itself');
}

function listShapes(events: QueryEvent[]): string {
  const counts = new Map<string, { sql: string; n: number }>();
  for (const e of events) counts.set(e.fingerprint, { sql: e.sql, n: (counts.get(e.fingerprint)?.n ?? 0) + e.calls });
  return [...counts.values()].map((c) => `  ${c.n} × ${c.sql.replace(/\s+/g, ' ')}`).join('\n');
}

expect.extend({
  async toHaveNoNPlusOne(received: (size: number) => Promise<unknown>, options: NPlusOneOptions = {}) {
    if (typeof received !== 'function')
      throw new TypeError('toHaveNoNPlusOne expects a function of the size, e.g. (k) => service.list(k)');
    const report = await checkOperation(
      options.operation ?? (received.name || 'operation'),
      received,
      options.sizes ?? [5, 25],
      { nodes: options.nodes },
    );
    return {
      pass: report.findings.length === 0,
      message: () =>
        report.findings.length === 0
          ? `expected an N+1, found none:\n${formatReport(report)}`
          : `expected no N+1:\n${formatReport(report)}`,
    };
  },
  toHaveQueryCount(received: unknown, count: number) {
    const events = eventsOf(received);
    const { queries } = perRequestTotals(events);
    return {
      pass: queries === count,
      message: () => `expected ${count} statements, received ${queries}:\n${listShapes(events)}`,
      expected: count,
      actual: queries,
    };
  },
  toStayWithinQueryBudget(received: unknown, budget: { maxQueries?: number; maxDbMs?: number }) {
    const events = eventsOf(received);
    const { queries, dbMs } = perRequestTotals(events);
    const broken = [
      budget.maxQueries !== undefined && queries > budget.maxQueries
        ? `${queries} statements > ${budget.maxQueries}`
        : undefined,
      budget.maxDbMs !== undefined && dbMs > budget.maxDbMs
        ? `${dbMs.toFixed(1)} ms of database time > ${budget.maxDbMs} ms`
        : undefined,
    ].filter(Boolean);
    return {
      pass: broken.length === 0,
      message: () =>
        broken.length
          ? `query budget broken: ${broken.join('; ')}\n${listShapes(events)}`
          : `expected the budget to be broken: ${queries} statements, ${dbMs.toFixed(1)} ms`,
    };
  },
});
