// Issue 18: a scenario's load spread over every instance of the app (`app.instances`), as a
// balancer spreads it: the open model's connection c to instance c mod N, the closed model's
// clients in turn; a suite's load likewise. Each engine keeps the first answer of each kind
// per instance, headers and all, for the headers suite. Counts and contents, not timings.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seenAnswers } from '../../harness/http/seen.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { runScenario, scenarioSchema } from '../../load/scenario.ts';

const servers: http.Server[] = [];
const urls: string[] = [];
const seen: Record<string, number>[] = [];
beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const counts: Record<string, number> = {};
    seen.push(counts);
    // Instance 1 says nosniff on every answer, instance 2 never: one set up differently from the other.
    const nosniff = i === 0;
    const server = http.createServer((request, response) => {
      counts[request.url!] = (counts[request.url!] ?? 0) + 1;
      if (nosniff) response.setHeader('X-Content-Type-Options', 'nosniff');
      response.setHeader('Set-Cookie', ['a=1; Secure', 'b=2; HttpOnly']);
      response.statusCode = request.url!.includes('/missing') ? 404 : 200;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
});
afterAll(() => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const reset = () => {
  for (const counts of seen) for (const key of Object.keys(counts)) delete counts[key];
};

describe('a scenario over several instances', () => {
  test('open model: each instance gets every other request, on the same path and query', async () => {
    reset();
    const result = await runScenario(
      urls,
      'spread',
      scenarioSchema.parse({
        request: 'GET /items/{id}?full=1',
        ids: { from: 7, to: 7 },
        rate: 100,
        connections: 4,
        durationMs: 1000,
        warmupMs: 0,
        budgets: 'errors=0',
      }),
    );
    expect(result.errors).toBe(0);
    const [a, b] = seen.map(total) as [number, number];
    expect(a).toBeGreaterThan(20);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(2);
    for (const counts of seen) expect(Object.keys(counts)).toEqual(['/items/7?full=1']);
  });

  test('closed model: the clients are shared out over the instances', async () => {
    reset();
    const result = await runScenario(
      urls,
      'spread',
      scenarioSchema.parse({ request: 'GET /items', connections: 4, durationMs: 1000, warmupMs: 0 }),
    );
    expect(result.requests).toBeGreaterThan(0);
    for (const counts of seen) expect(total(counts)).toBeGreaterThan(0);
  });

  test('one instance is the load as before: everything to it', async () => {
    reset();
    await runScenario(
      urls[0]!,
      'one',
      scenarioSchema.parse({ request: 'GET /items', rate: 50, durationMs: 500, warmupMs: 0 }),
    );
    expect(total(seen[0]!)).toBeGreaterThan(0);
    expect(total(seen[1]!)).toBe(0);
  });

  test.each([
    ['open', { rate: 100, connections: 4 }],
    ['closed', { connections: 4 }],
  ])(
    '%s model: the first answer of each kind on each instance is kept with its headers, named by the request as written',
    async (model, load) => {
      const result = await runScenario(
        urls,
        'seen',
        scenarioSchema.parse({
          mix: [{ request: `GET /seen-${model}/{id}` }, { request: `GET /seen-${model}/missing/{id}` }],
          ids: { from: 1, to: 50 },
          durationMs: 1000,
          warmupMs: 0,
          ...load,
        }),
      );
      expect(result.requests).toBeGreaterThan(0);
      const kinds = seenAnswers
        .list()
        .filter((answer) => answer.request.startsWith(`GET /seen-${model}/`))
        .map((answer) => ({ ...answer, nosniff: answer.headers.some(([name]) => name === 'x-content-type-options') }));
      expect(kinds.map((k) => `${urls.indexOf(k.origin)} ${k.request} ${k.status} ${k.nosniff}`).sort()).toEqual([
        `0 GET /seen-${model}/missing/{id} 404 true`,
        `0 GET /seen-${model}/{id} 200 true`,
        `1 GET /seen-${model}/missing/{id} 404 false`,
        `1 GET /seen-${model}/{id} 200 false`,
      ]);
      // Both cookies, each its own header, names in lower case.
      expect(kinds[0]!.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value)).toEqual([
        'a=1; Secure',
        'b=2; HttpOnly',
      ]);
    },
  );

  test("a suite's load over the instances: open model, each request to the next; closed model, client c to instance c mod N", async () => {
    reset();
    const open = await startSuiteLoad({
      url: urls[0]!,
      urls,
      rate: 40,
      durationMs: 1000,
      requests: [{ spec: { method: 'GET', path: '/suite-open' } }],
      seed: 'instances',
    });
    await open.start();
    const [a, b] = seen.map((counts) => counts['/suite-open'] ?? 0) as [number, number];
    expect(a + b).toBeGreaterThan(20);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
    const closed = await startSuiteLoad({
      url: urls[0]!,
      urls,
      connections: 2,
      durationMs: 300,
      requests: [{ spec: { method: 'GET', path: '/suite-closed' } }],
      seed: 'instances',
    });
    await closed.start();
    for (const counts of seen) expect(counts['/suite-closed']).toBeGreaterThan(0);
  });

  test('engine k6 with several instances is refused in one line', async () => {
    await expect(
      runScenario(urls, 'k6', scenarioSchema.parse({ request: 'GET /items', rate: 10, durationMs: 500, engine: 'k6' })),
    ).rejects.toThrow(/^scenario k6: engine k6 sends to one URL, and the app has 2 instances/);
  });
});
