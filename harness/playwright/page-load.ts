import type { Page, Request } from '@playwright/test';
import { StatementWatcher, type WatchedNode } from '../capture/black-box.ts';
import { findNPlusOne, validateSizes } from '../capture/detect.ts';
import type { N1Finding, QueryEvent } from '../capture/types.ts';

/** Where the page's API calls end up: the database nodes and the app's role, for statement counts. */
export interface DatabaseToWatch {
  /** Nodes by a superuser (or pg_read_all_stats) URL, e.g. a topology's `adminUrl`s. */
  nodes: WatchedNode[];
  /** The role the app connects as (default `app`). */
  role?: string;
  /** Only this database's statements (default every database). */
  database?: string;
}

export interface PageLoadOptions {
  /** A selector that appears once the page has everything it shows (default: wait until the network is idle). */
  ready?: string;
  /** How long to wait for `ready` (default 30 s). */
  timeoutMs?: number;
}

export interface ApiCall {
  method: string;
  url: string;
  /** The call with ids and query values left out: `GET /orders/{id}/status`, `GET /orders?limit=`. */
  shape: string;
}

export interface PageLoad {
  url: string;
  apiCalls: ApiCall[];
  /** The statements the database ran for the role while the page loaded (empty without a database to watch). */
  statements: QueryEvent[];
  /** Their number (each event may stand for several runs of one shape). */
  statementCount: number;
}

export interface FrontEndN1Finding {
  page: string;
  /** The API call made once per item. */
  shape: string;
  countsBySize: Record<number, number>;
  /** Extra calls per extra item. */
  slope: number;
  hint: string;
}

export interface PageN1Report {
  page: string;
  sizes: number[];
  loads: PageLoad[];
  /** API calls the page makes once per item (the front-end N+1). */
  findings: FrontEndN1Finding[];
  /** Statements the database ran once per item during the page loads (the back-end N+1, seen through the page). */
  queryFindings: N1Finding[];
}

/** A call's shape: numeric path segments become {id}, query values are left out. */
export function callShape(method: string, url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname
    .replace(/\/\d+(?=\/|$)/g, '/{id}')
    .replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi, '/{id}');
  const keys = [...new Set(parsed.searchParams.keys())].sort();
  return `${method} ${path}${keys.length ? `?${keys.map((k) => `${k}=`).join('&')}` : ''}`;
}

const isApiCall = (request: Request) => ['fetch', 'xhr'].includes(request.resourceType());

/**
 * Loads `url` in the page until the network is idle (every call the page's scripts make
 * has been answered), recording each fetch/XHR call it made and, with a database to
 * watch, every statement the database ran for the app's role meanwhile.
 */
export async function measurePageLoad(
  page: Page,
  url: string,
  database?: DatabaseToWatch,
  options: PageLoadOptions = {},
): Promise<PageLoad> {
  const apiCalls: ApiCall[] = [];
  let inFlight = 0;
  const onRequest = (request: Request) => {
    if (!isApiCall(request)) return;
    inFlight++;
    apiCalls.push({ method: request.method(), url: request.url(), shape: callShape(request.method(), request.url()) });
  };
  const onDone = (request: Request) => {
    if (isApiCall(request)) inFlight--;
  };
  const watcher = database
    ? await StatementWatcher.open(database.nodes, database.role ?? 'app', database.database)
    : undefined;
  page.on('request', onRequest);
  page.on('requestfinished', onDone);
  page.on('requestfailed', onDone);
  try {
    const load = async () => {
      // A page that polls never goes network-idle: with `ready`, its selector says the page is done.
      const response = await page.goto(url, { waitUntil: options.ready ? 'load' : 'networkidle' });
      if (!response?.ok())
        throw new Error(`${url} answered ${response?.status() ?? 'nothing'}: a page must load to be measured`);
      if (options.ready) {
        await page.waitForSelector(options.ready, { timeout: options.timeoutMs ?? 30_000 });
        // Every call made by then has its answer (and its statements ran) before they are counted.
        while (inFlight > 0) await page.waitForTimeout(10);
      }
    };
    let statements: QueryEvent[] = [];
    if (watcher) statements = (await watcher.capture(load)).events;
    else await load();
    return { url, apiCalls, statements, statementCount: statements.reduce((n, e) => n + e.calls, 0) };
  } finally {
    page.off('request', onRequest);
    page.off('requestfinished', onDone);
    page.off('requestfailed', onDone);
    await watcher?.close();
  }
}

/**
 * The front-end N+1 check: the page is loaded at increasing sizes (e.g. `?limit=5`, then
 * 25); an API call whose count grows with the size is made once per item, and flagged
 * like a statement that does (the same rule: never fewer at a larger size, at least half
 * a call more per extra item). Each size is loaded twice; the fewer calls count (a
 * one-off refresh is not a pattern).
 */
export async function checkPageN1(
  page: Page,
  options: {
    url: (size: number) => string;
    sizes?: number[];
    database?: DatabaseToWatch;
    name?: string;
  } & PageLoadOptions,
): Promise<PageN1Report> {
  const sizes = options.sizes ?? [5, 25];
  validateSizes(sizes);
  const name = options.name ?? options.url(sizes[0]!);
  const loads: PageLoad[] = [];
  const callRuns: { size: number; events: QueryEvent[] }[] = [];
  const statementRuns: { size: number; events: QueryEvent[] }[] = [];
  for (const size of sizes) {
    const measure = () => measurePageLoad(page, options.url(size), options.database, options);
    const tries = [await measure(), await measure()];
    const best = tries.reduce((a, b) =>
      b.apiCalls.length + b.statementCount < a.apiCalls.length + a.statementCount ? b : a,
    );
    loads.push(best);
    const counts = new Map<string, number>();
    for (const call of best.apiCalls) counts.set(call.shape, (counts.get(call.shape) ?? 0) + 1);
    callRuns.push({
      size,
      events: [...counts].map(([shape, calls]) => ({
        fingerprint: shape,
        sql: shape,
        durationMs: 0,
        rows: 0,
        node: 'browser',
        calls,
      })),
    });
    statementRuns.push({ size, events: best.statements });
  }
  const findings = findNPlusOne(name, callRuns).map((f) => ({
    page: name,
    shape: f.exampleSql,
    countsBySize: f.countsBySize,
    slope: f.slope,
    hint: 'the page asks once per item: fetch the items with what it shows in one call (include it in the list response, or add a batch endpoint taking every id)',
  }));
  return { page: name, sizes, loads, findings, queryFindings: findNPlusOne(name, statementRuns) };
}
