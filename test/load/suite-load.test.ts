// A suite's load runs in an engine process of its own (issue 13): what it sends, how its
// time 0 lines up with dbproof's (a fault schedule started beside it), and what it reports.
// Assertions are on content and on lower bounds set by stalls the test makes itself.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';

let server: http.Server;
let url: string;
const seen: { method: string; path: string; body: string; cookie?: string }[] = [];
/** Until this `performance.now()` instant every answer waits; set by a test. */
let stallUntil = 0;

beforeEach(async () => {
  seen.length = 0;
  stallUntil = 0;
  let clients = 0;
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, body, cookie: req.headers.cookie });
      const answer = () => {
        if (!req.headers.cookie) res.setHeader('set-cookie', `client=${++clients}`);
        res.writeHead(req.url!.startsWith('/missing') ? 404 : 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      };
      const wait = stallUntil - performance.now();
      if (wait > 0) setTimeout(answer, wait);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the open model sends each request on its schedule, filling {id} from the range and {key} from a counter', async () => {
  const load = await startSuiteLoad({
    url,
    rate: 50,
    durationMs: 1000,
    requests: [
      { spec: { method: 'GET', path: '/items/{id}' }, ids: { from: 3, to: 7, skew: 0 }, weight: 1 },
      { spec: { method: 'PUT', path: '/keys/{key}', body: { key: '{key}' } }, keyPrefix: 'k-', weight: 1 },
    ],
    seed: 'test',
  });
  const { timeline, lastError } = await load.start();
  expect(timeline.requests).toBe(50);
  expect(timeline.errors).toBe(0);
  expect(lastError).toBe('');
  const ids = seen.filter((r) => r.method === 'GET').map((r) => Number(r.path.split('/')[2]));
  expect(ids.length).toBeGreaterThan(5);
  expect(ids.every((id) => id >= 3 && id <= 7)).toBe(true);
  const keys = seen.filter((r) => r.method === 'PUT').map((r) => JSON.parse(r.body).key);
  expect(keys).toEqual(keys.map((_, i) => `k-${i}`));
  // One session for the open model: requests sent before the first answer carry no cookie
  // (how many depends on the machine's speed); from the first that carries one, every later
  // request carries one the server issued. A load without a session would carry none.
  // Send order is the PUTs' key order.
  const puts = seen
    .filter((r) => r.method === 'PUT')
    .sort((a, b) => Number(JSON.parse(a.body).key.slice(2)) - Number(JSON.parse(b.body).key.slice(2)));
  const first = puts.findIndex((r) => r.cookie);
  expect(first).toBeGreaterThanOrEqual(0);
  expect(puts.slice(first).every((r) => /^client=\d+$/.test(r.cookie ?? ''))).toBe(true);
});

test("time 0 is the parent's start: no request reaches the server before it was due by the parent's clock", async () => {
  // The n-th key is the n-th request sent, due at n × 10 ms (one session, in order). Each one's
  // arrival, by this process's clock from the moment it called start(), minus its due time,
  // is how late it was sent: never negative if the two processes share time 0, on any
  // machine, however busy (a busy one only sends later).
  const arrivals: { key: number; at: number }[] = [];
  const load = await startSuiteLoad({
    url,
    rate: 100,
    durationMs: 1000,
    requests: [{ spec: { method: 'GET', path: '/k/{key}' }, keyPrefix: '' }],
    seed: 't',
  });
  let started = 0;
  server.on('request', (req: http.IncomingMessage) => {
    if (req.url!.startsWith('/k/')) arrivals.push({ key: Number(req.url!.slice(3)), at: performance.now() - started });
  });
  started = performance.now();
  await load.start();
  expect(arrivals).toHaveLength(100);
  const early = arrivals.map(({ key, at }) => at - key * 10);
  // Clocks read alike to well within a millisecond; 2 ms for the timer that fires a little early.
  expect(Math.min(...early)).toBeGreaterThan(-2);
});

test('an answer outside `expect` fails the request and is the last error; the closed model keeps a session per client', async () => {
  const load = await startSuiteLoad({
    url,
    connections: 3,
    durationMs: 500,
    requests: [
      { spec: { method: 'GET', path: '/missing' }, expect: [404], weight: 1 },
      { spec: { method: 'GET', path: '/fine' }, expect: [404], weight: 1 },
    ],
    seed: 'closed',
  });
  const { timeline, lastError } = await load.start();
  expect(timeline.requests).toBeGreaterThan(10);
  expect(timeline.errors).toBeGreaterThan(0);
  expect(timeline.errors).toBeLessThan(timeline.requests);
  expect(lastError).toMatch(/^GET \/fine: HTTP 200/);
  expect(new Set(seen.map((r) => r.cookie).filter(Boolean))).toEqual(new Set(['client=1', 'client=2', 'client=3']));
  // The closed model's own lateness is sampled in every bucket it ran.
  expect(timeline.buckets().some((b) => b.sendLateMs !== undefined)).toBe(true);
});

test('a request the app never answers fails at its time-out, and the engine still ends', async () => {
  stallUntil = performance.now() + 60_000;
  const load = await startSuiteLoad({
    url,
    rate: 20,
    durationMs: 300,
    timeoutMs: 500,
    requests: [{ spec: { method: 'GET', path: '/' } }],
    seed: 't',
  });
  const { timeline, lastError } = await load.start();
  expect(timeline.errors).toBe(timeline.requests);
  expect(lastError).toMatch(/abort|time/i);
});
