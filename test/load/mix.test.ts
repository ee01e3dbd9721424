import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { progressReporter } from '../../load/progress.ts';
import { runScenario, scenarioSchema } from '../../load/scenario.ts';
import type { EngineProgress } from '../../load/engines/types.ts';

// Two endpoints: /fast answers at once, /slow after 200 ms, /broken with a 500. Per-endpoint
// figures must keep them apart, whatever the machine's speed (200 ms is a floor, not a timing).
let server: http.Server;
let url: string;
const seen: Record<string, number> = {};
beforeAll(async () => {
  server = http.createServer((request, response) => {
    const path = new URL(request.url!, 'http://x').pathname;
    seen[`${request.method} ${path}`] = (seen[`${request.method} ${path}`] ?? 0) + 1;
    if (path === '/slow') setTimeout(() => response.end('slow'), 200);
    else if (path === '/broken') response.writeHead(500).end('no');
    else response.end('fast');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const scenario = (input: unknown) => scenarioSchema.parse(input);

describe('a weighted request mix', () => {
  for (const model of [{ rate: 200 }, { connections: 8 }]) {
    const modelName = 'rate' in model ? 'open model' : 'closed model';
    test(`${modelName}: requests follow the weights, each endpoint is measured on its own, and its budgets are judged on its own requests`, async () => {
      for (const key of Object.keys(seen)) delete seen[key];
      const result = await runScenario(
        url,
        'mixed',
        scenario({
          ...model,
          durationMs: 2000,
          warmupMs: 0,
          mix: [
            { request: 'GET /fast', weight: 3, budgets: 'errors=0,p50=150ms' },
            { request: 'DELETE /slow', weight: 1, budgets: 'p50=100ms' },
          ],
          budgets: 'errors=0',
        }),
      );
      const [fast, slow] = result.endpoints;
      expect(result.request).toBe('75 % GET /fast, 25 % DELETE /slow');
      expect(fast!.request).toBe('GET /fast');
      expect(slow!.request).toBe('DELETE /slow');
      expect(fast!.requests + slow!.requests).toBe(result.requests);
      // The method of the entry is the method sent.
      expect(seen['DELETE /slow']).toBeGreaterThan(0);
      expect(seen['GET /slow'] ?? 0).toBe(0);
      if ('rate' in model) {
        // The open model sends by weight: 3 of 4 requests to /fast (seeded, so it is the same every run).
        expect(fast!.requests / result.requests).toBeGreaterThan(0.7);
        expect(fast!.requests / result.requests).toBeLessThan(0.8);
      }
      expect(slow!.latencyMs.p50).toBeGreaterThanOrEqual(200);
      expect(fast!.latencyMs.p50).toBeLessThan(slow!.latencyMs.p50);
      const verdict = (scope: string, metric: string) =>
        result.verdicts.find((v) => v.budget.scope === scope && v.budget.metric === metric)!;
      // /slow's own p50 budget fails on its own requests; it cannot pass (200 ms is a floor).
      expect(verdict('DELETE /slow', 'p50Ms').pass).toBe(false);
      expect(verdict('DELETE /slow', 'p50Ms').measured).toBe(slow!.latencyMs.p50);
      expect(verdict('GET /fast', 'errors').pass).toBe(true);
      expect(verdict('scenario mixed', 'errors').pass).toBe(true);
    });
  }

  test("a broken endpoint's errors are its own: the healthy endpoint's error budget holds, the broken one's fails", async () => {
    const result = await runScenario(
      url,
      'half-broken',
      scenario({
        rate: 100,
        durationMs: 1000,
        warmupMs: 0,
        mix: [
          { request: 'GET /fast', budgets: 'errors=0' },
          { request: 'GET /broken', budgets: 'errors=0' },
        ],
        budgets: 'errors=10%',
      }),
    );
    const [fast, broken] = result.endpoints;
    expect(fast!.errors).toBe(0);
    expect(broken!.errors).toBe(broken!.requests);
    expect(result.verdicts.find((v) => v.budget.scope === 'GET /fast')!.pass).toBe(true);
    expect(result.verdicts.find((v) => v.budget.scope === 'GET /broken')!.pass).toBe(false);
    expect(result.verdicts.find((v) => v.budget.scope === 'scenario half-broken')!.pass).toBe(false);
  });

  test('a scenario needs one of request and mix, each budget string is checked, and an endpoint is in a mix once', () => {
    const issues = (input: unknown) =>
      scenarioSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ rate: 10 })).toEqual([
      "request: give request: 'GET /path' or mix: [{ request, weight, budgets }], one of the two",
    ]);
    expect(issues({ rate: 10, request: 'GET /a', mix: [{ request: 'GET /b' }] })[0]).toMatch(/one of the two/);
    expect(issues({ rate: 10, mix: [{ request: 'GET /a', budgets: 'p99=fast' }] })).toEqual([
      'mix.0.budgets: p99=fast: a latency needs a unit, e.g. p99=200ms or p99=1.5s',
    ]);
    expect(issues({ rate: 10, mix: [{ request: 'GET /a' }, { request: 'GET  /a', weight: 2 }] })).toEqual([
      'mix: GET /a is in the mix twice: give it once, with the sum of the weights',
    ]);
    expect(issues({ rate: 10, mix: [{ request: 'GET /a', weight: 0 }] })[0]).toMatch(/^mix.0.weight/);
  });
});

describe('progress of a long load', () => {
  const capture = () => {
    const lines: string[] = [];
    return {
      lines,
      stream: { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream,
    };
  };
  const tick = (elapsedMs: number, requests = 100, errors = 0, p99Ms = 5): EngineProgress => ({
    elapsedMs,
    requests,
    errors,
    rps: requests,
    p99Ms,
  });

  test('in CI, a plain line every 5 s summing the seconds since the last one', () => {
    const { lines, stream } = capture();
    const reporter = progressReporter({ label: 'load checkout', durationMs: 30_000, stream, live: false });
    for (let s = 1; s <= 11; s++) reporter.onProgress(tick(s * 1000, 100, s === 3 ? 2 : 0, s === 4 ? 40 : 5));
    reporter.done();
    expect(lines).toEqual([
      'load checkout: 1/30 s · 100 req/s · worst 1-s p99 5.0 ms · 0 errors\n',
      'load checkout: 6/30 s · 100 req/s · worst 1-s p99 40.0 ms · 2 errors\n',
      'load checkout: 11/30 s · 100 req/s · worst 1-s p99 5.0 ms · 0 errors\n',
    ]);
  });

  test('on a terminal, one line rewritten in place, cleared at the end', () => {
    const { lines, stream } = capture();
    const reporter = progressReporter({ label: 'load', durationMs: 10_000, stream, live: true });
    reporter.onProgress(tick(-1000));
    reporter.onProgress(tick(2000, 250, 1, 12.5));
    reporter.done();
    expect(lines).toEqual([
      '\r\x1b[2Kload: warm-up 1 s left · 100 req/s · p99 5.0 ms · 0 errors',
      '\r\x1b[2Kload: 2/10 s · 250 req/s · p99 12.5 ms · 1 errors',
      '\r\x1b[2K',
    ]);
  });

  test('the engine reports progress from its own process while it runs', async () => {
    const seenProgress: EngineProgress[] = [];
    const { runEngine } = await import('../../load/engines/run.ts');
    const report = await runEngine({ url: `${url}/fast`, rate: 100, durationMs: 2500, progressEveryMs: 500 }, (p) =>
      seenProgress.push(p),
    );
    expect(report.requests).toBe(250);
    expect(seenProgress.length).toBeGreaterThanOrEqual(3);
    expect(seenProgress.reduce((n, p) => n + p.requests, 0)).toBeLessThanOrEqual(250);
    expect(seenProgress.some((p) => p.requests > 0 && p.rps > 0)).toBe(true);
  });
});
