import { checkSizedRequests, type N1Report } from '../../harness/capture/n1.ts';
import type { WatchedNode } from '../../harness/capture/black-box.ts';
import type { BadKind } from './options.ts';
import type { EndpointCheck } from './endpoint-check.ts';

/** What a batch costs the database and the client, on the happy path and falling back. */
export interface BatchCost {
  /** Statements added per extra item, all statements summed (pg_stat_statements). */
  happyPerItem: number;
  fallbackPerItem: number;
  /** Statements of one batch of the larger size. */
  happyStatements: number;
  fallbackStatements: number;
  /** The fastest batch of the larger size, ms (a busy machine only adds time). */
  happyMs: number;
  fallbackMs: number;
  /** The happy path's report: its findings are an N+1 in disguise (one INSERT per item). */
  happy: N1Report;
}

const totalAt = (report: N1Report, size: number) =>
  report.shapes.reduce((n, shape) => n + (shape.countsBySize[size] ?? 0), 0);

/**
 * Sends batches of the two cost sizes, happy and with one bad item in the middle, and
 * attributes to each the statements the app's role ran meanwhile (each batch judged as well).
 */
export async function measureCost(
  check: EndpointCheck,
  watch: { nodes: WatchedNode[]; role: string; database: string },
  sizes: [number, number],
  repeats: number,
  badKind: BadKind,
): Promise<BatchCost> {
  const large = sizes[1];
  const measure = async (path: 'happy' | 'fallback') => {
    const durations: number[] = [];
    const report = await checkSizedRequests({
      ...watch,
      sizes,
      repeats,
      operation: `${check.endpoint.request} (${path === 'happy' ? 'happy path' : 'falling back'})`,
      send: async (size) => {
        const bad = path === 'happy' ? new Map<number, BadKind>() : new Map([[Math.floor(size / 2), badKind]]);
        const sent = await check.sendAndJudge(check.maker.make(`${path} at ${size}`, size, bad));
        if (size === large) durations.push(sent.ms);
      },
    });
    const perItem = (totalAt(report, large) - totalAt(report, sizes[0])) / (large - sizes[0]);
    return { report, perItem, statements: totalAt(report, large), ms: Math.min(...durations) };
  };
  const happy = await measure('happy');
  const fallback = await measure('fallback');
  return {
    happyPerItem: happy.perItem,
    fallbackPerItem: fallback.perItem,
    happyStatements: happy.statements,
    fallbackStatements: fallback.statements,
    happyMs: happy.ms,
    fallbackMs: fallback.ms,
    happy: happy.report,
  };
}
