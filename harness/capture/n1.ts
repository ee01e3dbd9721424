import { DbproofError } from '../errors.ts';
import { redact } from '../redact.ts';
import { StatementWatcher, type WatchedNode } from './black-box.ts';
import { findNPlusOne, validateSizes, countShapes, type SizedRun } from './detect.ts';
import { captureQueries, type KnownNode } from './in-process.ts';
import type { N1Finding, QueryEvent, ShapeCounts } from './types.ts';

export interface N1Report {
  operation: string;
  sizes: number[];
  findings: N1Finding[];
  shapes: ShapeCounts[];
}

/** Keeps, per shape, the fewest calls seen over repeated runs: a one-off (a new connection's set-up) is not a pattern. */
function minimumOverRepeats(repeats: QueryEvent[][]): QueryEvent[] {
  const byShape = new Map<string, QueryEvent>();
  const seenIn = new Map<string, number>();
  for (const events of repeats) {
    const calls = new Map<string, number>();
    for (const e of events) calls.set(e.fingerprint, (calls.get(e.fingerprint) ?? 0) + e.calls);
    for (const e of events) if (!byShape.has(e.fingerprint)) byShape.set(e.fingerprint, e);
    for (const [fingerprint, n] of calls) seenIn.set(fingerprint, Math.min(seenIn.get(fingerprint) ?? Infinity, n));
    for (const fingerprint of byShape.keys()) if (!calls.has(fingerprint)) seenIn.set(fingerprint, 0);
  }
  return [...byShape.values()].map((e) => ({ ...e, calls: seenIn.get(e.fingerprint) ?? 0 })).filter((e) => e.calls > 0);
}

async function request(url: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DbproofError(
      `GET ${redact(url)} failed: ${(error as Error).cause ?? (error as Error).message}; is the app running?`,
      { cause: error },
    );
  }
  const body = await response.text();
  if (!response.ok)
    throw new DbproofError(
      `GET ${redact(url)} returned ${response.status} (${body.slice(0, 200)}); an endpoint must answer 2xx to be checked`,
    );
}

/**
 * Black-box N+1 check of an HTTP endpoint: at each size, one warm-up request (the
 * driver's connection set-up happens there), then `repeats` requests one at a time,
 * each attributed the statements the database ran for `role` meanwhile.
 */
export async function checkEndpoint(options: {
  urlsBySize: Map<number, string>;
  nodes: WatchedNode[];
  role: string;
  database?: string;
  repeats?: number;
  operation?: string;
}): Promise<N1Report> {
  const sizes = [...options.urlsBySize.keys()];
  return checkSizedRequests({
    ...options,
    sizes,
    send: (size) => request(options.urlsBySize.get(size)!),
    operation: options.operation ?? redact(options.urlsBySize.get(sizes[0]!)!),
  });
}

/**
 * The same check of any request that has a size (a POST of a batch of `size` items):
 * `send(size)` sends one, and throws when it was not answered as it should be.
 */
export async function checkSizedRequests(options: {
  sizes: number[];
  send: (size: number) => Promise<unknown>;
  nodes: WatchedNode[];
  role: string;
  database?: string;
  repeats?: number;
  operation: string;
}): Promise<N1Report> {
  const { sizes, operation } = options;
  validateSizes(sizes);
  const runs: SizedRun[] = [];
  const watcher = await StatementWatcher.open(options.nodes, options.role, options.database);
  try {
    for (const size of sizes) {
      await options.send(size);
      const repeats: QueryEvent[][] = [];
      for (let i = 0; i < (options.repeats ?? 2); i++)
        repeats.push((await watcher.capture(() => options.send(size))).events);
      runs.push({ size, events: minimumOverRepeats(repeats) });
    }
  } finally {
    await watcher.close();
  }
  return { operation, sizes, findings: findNPlusOne(operation, runs), shapes: countShapes(runs) };
}

/** In-process N+1 check of a function of the size (a service call, an ORM query…), on node-postgres. */
export async function checkOperation(
  operation: string,
  run: (size: number) => Promise<unknown>,
  sizes: number[],
  options: { nodes?: KnownNode[]; repeats?: number } = {},
): Promise<N1Report> {
  validateSizes(sizes);
  const runs: SizedRun[] = [];
  for (const size of sizes) {
    await run(size); // warm-up
    const repeats: QueryEvent[][] = [];
    for (let i = 0; i < (options.repeats ?? 2); i++)
      repeats.push((await captureQueries(() => run(size), { nodes: options.nodes })).events);
    runs.push({ size, events: minimumOverRepeats(repeats) });
  }
  return { operation, sizes, findings: findNPlusOne(operation, runs), shapes: countShapes(runs) };
}

/** The report for a person: one block per finding. */
export function formatReport(report: N1Report): string {
  if (report.findings.length === 0)
    return `no N+1 in ${report.operation} (sizes ${report.sizes.join(', ')}; ${report.shapes.length} query shapes, none growing with the size)`;
  return report.findings
    .map((f) =>
      [
        `N+1 in ${f.operation}: ${f.slope} more statement(s) per item`,
        `  query:   ${f.exampleSql.replace(/\s+/g, ' ')}${f.exampleParams ? `   params ${JSON.stringify(f.exampleParams)}` : ''}`,
        `  counts:  ${report.sizes.map((s) => `${s} → ${f.countsBySize[s]}`).join(', ')}`,
        ...(f.site ? [`  at:      ${f.site}`] : []),
        `  fix:     ${f.hint}`,
      ].join('\n'),
    )
    .join('\n\n');
}
