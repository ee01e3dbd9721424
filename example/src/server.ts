import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Cache } from './cache.ts';
import type { Db } from './db.ts';
import { batchOptionsFromEnv, storeFindings, type FindingItem } from './findings.ts';
import * as inspections from './inspections.ts';
import { inspectionsPage } from './pages.ts';
import * as plans from './plans.ts';
import * as similarity from './similarity.ts';
import type { Probes } from './health.ts';
import { limitAnswer, type RateLimiter } from './rate-limit.ts';
import { headersOnSuccessOnly, setSecurityHeaders } from './security-headers.ts';

interface Request {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The WAL position of this session's last write (cookie `rw-lsn`), for read-your-writes. */
  lastWrite: string | undefined;
}
interface Reply {
  body: unknown;
  status?: number;
  /** Set as the session's last write position. */
  lsn?: string;
}
type Handler = (db: Db, cache: Cache, request: Request) => Promise<Reply>;

const badRequest = (message: string) => Object.assign(new Error(message), { status: 400 });

const size = (query: URLSearchParams, name: string, fallback: number, max = 1000) => {
  const value = Number(query.get(name) ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw badRequest(`${name} must be a whole number from 1 to ${max}`);
  return value;
};

const text = (body: Record<string, unknown>, name: string) => {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > 200)
    throw badRequest(`${name} must be a string of 1 to 200 characters`);
  return value;
};

const whole = (value: unknown, name: string) => {
  if (!Number.isInteger(value)) throw badRequest(`${name} must be a whole number`);
  return value as number;
};

/** A batch's items as sent; their values are the database's to refuse (a bad item is reported, not a 400). */
function findingItems(body: Record<string, unknown>): FindingItem[] {
  const items = body.items;
  if (!Array.isArray(items) || items.length === 0 || items.length > 1000)
    throw badRequest('items must be an array of 1 to 1000 findings');
  return items.map((raw: unknown, i) => {
    const item = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    if (typeof item.summary !== 'string') throw badRequest(`items[${i}].summary must be a string`);
    if (item.assetTag !== undefined && item.assetTag !== null && typeof item.assetTag !== 'string')
      throw badRequest(`items[${i}].assetTag must be a string or null`);
    return {
      ref: text(item, 'ref'),
      inspectionId: whole(item.inspectionId, `items[${i}].inspectionId`),
      severity: whole(item.severity, `items[${i}].severity`),
      summary: item.summary,
      assetTag: (item.assetTag as string | null | undefined) ?? null,
    };
  });
}

const batchOptions = batchOptionsFromEnv();
/** The batched media read falls back to a read per item when it is cancelled; off: EXAMPLE_BATCH_READ_FALLBACK=off or the naive app. */
const batchReadFallback = process.env.EXAMPLE_BATCH_READ_FALLBACK !== 'off' && process.env.EXAMPLE_NAIVE !== '1';

const ok = async (body: Promise<unknown>): Promise<Reply> => ({ body: await body });

/** Each node's breaker state, `{ primary: 'closed', replica1: 'open', … }`, for /health. */
const breakerStates = (db: Db) => Object.fromEntries(db.breakers.map((b) => [b.node, b.state]));

/** The plans endpoints' variant: good, unless EXAMPLE_PLANS=broken or the naive app. */
const brokenPlans = plans.brokenPlans();
/** The similarity search's table, when EXAMPLE_EMBEDDINGS made one. */
const embeddings = similarity.embeddingsFromEnv();

/** Each N+1 route sits next to its fix; `{K}` in dbproof's URL templates is the size parameter. */
const routes: [string, RegExp, Handler][] = [
  [
    'GET',
    /^\/inspections\/(\d+)\/media$/,
    (db, _, r) => ok(inspections.mediaPerItem(db, Number(r.params[0]), size(r.query, 'items', 10))),
  ],
  [
    'GET',
    /^\/inspections\/(\d+)\/media-batched$/,
    (db, _, r) => ok(inspections.mediaBatched(db, Number(r.params[0]), size(r.query, 'items', 10), batchReadFallback)),
  ],
  ['GET', /^\/inspections$/, (db, _, r) => ok(inspections.listWithInspectorPerRow(db, size(r.query, 'limit', 20)))],
  ['GET', /^\/inspections-joined$/, (db, _, r) => ok(inspections.listJoined(db, size(r.query, 'limit', 20)))],
  [
    'GET',
    /^\/checklist-overview$/,
    (db, _, r) => ok(inspections.checklistOverviewNested(db, size(r.query, 'limit', 5))),
  ],
  ['GET', /^\/dashboard$/, (db, _, r) => ok(inspections.dashboardSummary(db, size(r.query, 'limit', 20)))],
  // Good plans, or broken as teams break them (EXAMPLE_PLANS=broken): the query-plans suite's targets.
  ['GET', /^\/inspections\/(\d+)\/checklist$/, (db, _, r) => ok(plans.checklist(db, Number(r.params[0]), brokenPlans))],
  [
    'GET',
    /^\/inspections\/recent$/,
    (db, _, r) =>
      ok(plans.recentInspections(db, r.query.get('status') ?? 'completed', size(r.query, 'limit', 20), brokenPlans)),
  ],
  ['GET', /^\/media\/recent$/, (db, _, r) => ok(plans.recentMedia(db, size(r.query, 'limit', 20), brokenPlans))],
  [
    'GET',
    /^\/embeddings\/(\d+)\/similar$/,
    async (db, _, r) =>
      embeddings
        ? ok(similarity.similar(db, Number(r.params[0]), size(r.query, 'k', 10), embeddings))
        : { status: 404, body: { error: 'no embeddings: start the app with EXAMPLE_EMBEDDINGS=<rows>' } },
  ],
  ['GET', /^\/inspections\/(\d+)$/, (db, cache, r) => ok(inspections.inspectionById(db, cache, Number(r.params[0])))],
  [
    'GET',
    /^\/inspections\/(\d+)\/status$/,
    (db, _, r) => ok(inspections.statusById(db, Number(r.params[0]), r.lastWrite)),
  ],
  [
    'PUT',
    /^\/inspections\/(\d+)\/status$/,
    async (db, cache, r) => {
      const { row, lsn } = await inspections.updateStatus(db, cache, Number(r.params[0]), text(r.body, 'status'));
      return row ? { body: row, lsn } : { body: { error: 'no such inspection' }, status: 404 };
    },
  ],
  [
    'POST',
    /^\/notes$/,
    async (db, _, r) => {
      const inspectionId = Number(r.body.inspectionId ?? 1);
      if (!Number.isInteger(inspectionId)) throw badRequest('inspectionId must be a whole number');
      const { key, lsn } = await inspections.addNote(
        db,
        text(r.body, 'key'),
        inspectionId,
        typeof r.body.body === 'string' ? r.body.body : '',
      );
      return { body: { key }, status: 201, lsn };
    },
  ],
  [
    'POST',
    /^\/findings\/batch$/,
    async (db, _, r) => {
      const batchId = r.body.batchId === undefined ? undefined : text(r.body, 'batchId');
      // A batch refused as a whole (BatchRefused) is answered with its status, 422.
      const results = await storeFindings(db, batchId, findingItems(r.body), batchOptions);
      return { body: { batchId, results } };
    },
  ],
  ['GET', /^\/slow$/, (db, _, r) => ok(inspections.slowRead(db, size(r.query, 'ms', 20, 10_000)))],
  ['GET', /^\/search$/, (db, _, r) => ok(inspections.searchSites(db, r.query.get('q') ?? ''))],
  ['GET', /^\/cache-stats$/, async (_db, cache) => ({ body: cache.stats() })],
  ['GET', /^\/health$/, async (db) => ({ body: { ok: true, breakers: breakerStates(db) } })],
];

/** The orchestrator's probes (src/health.ts), answered before any route. */
function probeRoute(probes: Probes | undefined, method: string | undefined, path: string) {
  if (!probes || method !== 'GET') return undefined;
  if (path === '/live') return probes.live;
  if (path === '/ready') return probes.ready;
  return undefined;
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  let raw = '';
  for await (const chunk of request) raw += chunk;
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw badRequest('the body must be a JSON object');
}

function lastWriteOf(request: http.IncomingMessage): string | undefined {
  const match = /(?:^|;\s*)rw-lsn=([0-9A-F]+\/[0-9A-F]+)/i.exec(request.headers.cookie ?? '');
  return match?.[1];
}

/** An error the request caused (a malformed pattern: SQLSTATE class 22) is a 400, not the server's failure. */
function statusOf(error: unknown): number {
  const explicit = (error as { status?: number }).status;
  if (explicit) return explicit;
  const code = (error as { code?: string }).code;
  return code && /^22/.test(code) ? 400 : 500;
}

/** The page's variant: batched, unless EXAMPLE_PAGE_BATCHED=off or the naive app (EXAMPLE_NAIVE=1). */
const batchedPage = process.env.EXAMPLE_PAGE_BATCHED !== 'off' && process.env.EXAMPLE_NAIVE !== '1';

/** EXAMPLE_EXTRA_LATENCY_MS: a deliberate slow-down of every request, for dbproof's regression check. */
const extraLatencyMs = Number(process.env.EXAMPLE_EXTRA_LATENCY_MS ?? 0);

/** The prefix of the rate-limited routes: `/api/inspections/1` is `/inspections/1`, counted against its client's limit. */
const LIMITED = '/api/';

export function createServer(db: Db, cache: Cache, limiter?: RateLimiter, probes?: Probes): http.Server {
  return http.createServer(async (request, response) => {
    if (extraLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, extraLatencyMs));
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!headersOnSuccessOnly) setSecurityHeaders(response);
    const probe = probeRoute(probes, request.method, url.pathname);
    if (probe) {
      const { status, body } = await probe();
      if (headersOnSuccessOnly && status < 300) setSecurityHeaders(response);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (limiter && url.pathname.startsWith(LIMITED)) {
      const refused = limitAnswer(await limiter.take(request), limiter.options, response);
      if (refused) {
        response.writeHead(refused.status, { 'content-type': 'application/json' }).end(JSON.stringify(refused.body));
        return;
      }
      url.pathname = url.pathname.slice(LIMITED.length - 1);
    }
    if (request.method === 'GET' && url.pathname === '/pages/inspections') {
      const limit = Number(url.searchParams.get('limit') ?? 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200)
        return void response
          .writeHead(400, { 'content-type': 'text/plain' })
          .end('limit must be a whole number from 1 to 200');
      // The page's one script runs by nonce: its CSP still refuses any other inline script.
      const nonce = randomBytes(16).toString('base64');
      setSecurityHeaders(
        response,
        `default-src 'none'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; frame-ancestors 'none'`,
      );
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(inspectionsPage(limit, batchedPage, nonce));
      return;
    }
    const route = routes.find(([method, pattern]) => method === request.method && pattern.test(url.pathname));
    if (!route) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    try {
      const body = request.method === 'GET' ? {} : await readJson(request);
      const reply = await route[2](db, cache, {
        params: route[1].exec(url.pathname)!.slice(1),
        query: url.searchParams,
        body,
        lastWrite: lastWriteOf(request),
      });
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      // Read-your-writes: for a few seconds, this session's reads go only where its write is.
      if (reply.lsn) headers['set-cookie'] = `rw-lsn=${reply.lsn}; Path=/; Max-Age=5; Secure; HttpOnly; SameSite=Lax`;
      const status = reply.status ?? 200;
      if (headersOnSuccessOnly && status < 300) setSecurityHeaders(response);
      response.writeHead(status, headers).end(JSON.stringify(reply.body));
    } catch (error) {
      response
        .writeHead(statusOf(error), { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: (error as Error).message }));
    }
  });
}
