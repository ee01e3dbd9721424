import http from 'node:http';
import type { Cache } from './cache.ts';
import type { Db } from './db.ts';
import * as inspections from './inspections.ts';

type Handler = (db: Db, params: string[], query: URLSearchParams, cache: Cache) => Promise<unknown>;

const size = (query: URLSearchParams, name: string, fallback: number) => {
  const value = Number(query.get(name) ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw Object.assign(new Error(`${name} must be a whole number from 1 to 1000`), { status: 400 });
  return value;
};

/** Each route pairs an N+1 with its fix; `{K}` in dbproof's URL templates is the size parameter. */
const routes: [RegExp, Handler][] = [
  [/^\/inspections\/(\d+)\/media$/, (db, [id], q) => inspections.mediaPerItem(db, Number(id), size(q, 'items', 10))],
  [/^\/inspections\/(\d+)\/media-batched$/, (db, [id], q) => inspections.mediaBatched(db, Number(id), size(q, 'items', 10))],
  [/^\/inspections$/, (db, _, q) => inspections.listWithInspectorPerRow(db, size(q, 'limit', 20))],
  [/^\/inspections-joined$/, (db, _, q) => inspections.listJoined(db, size(q, 'limit', 20))],
  [/^\/checklist-overview$/, (db, _, q) => inspections.checklistOverviewNested(db, size(q, 'limit', 5))],
  [/^\/dashboard$/, (db, _, q) => inspections.dashboardSummary(db, size(q, 'limit', 20))],
  [/^\/inspections\/(\d+)$/, (db, [id], _, cache) => inspections.inspectionById(db, cache, Number(id))],
  [/^\/cache-stats$/, async (_db, _params, _query, cache) => cache.stats()],
  [/^\/health$/, async () => ({ ok: true })],
];

export function createServer(db: Db, cache: Cache): http.Server {
  return http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = routes.find(([pattern]) => pattern.test(url.pathname));
    if (!route || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    try {
      const params = route[0].exec(url.pathname)!.slice(1);
      const body = await route[1](db, params, url.searchParams, cache);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
    }
  });
}
