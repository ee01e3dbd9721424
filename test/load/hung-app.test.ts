// An app that answers nothing is a failing app, not a broken measurement: a scenario whose
// requests all hang FAILs its budgets (exit 1), on both models. Before, the closed model
// dropped the requests still waiting at the end and the scenario measured no request at all,
// which dbproof read as its own failure (exit 2).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runScenario, scenarioSchema } from '../../load/scenario.ts';

let server: http.Server;
let url: string;
const held: http.ServerResponse[] = [];

beforeAll(async () => {
  // Reads every request and never answers it.
  server = http.createServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('closed model: each connection left waiting for the whole load is a failed request, and the budgets fail', async () => {
  const scenario = scenarioSchema.parse({
    request: 'GET /list',
    connections: 4,
    durationMs: 1500,
    budgets: 'p95=100ms,errors=0',
  });
  const result = await runScenario(url, 'hung', scenario);
  expect(result.requests).toBe(4);
  expect(result.errors).toBe(4);
  const errors = result.verdicts.find((v) => v.budget.metric === 'errors')!;
  expect(errors.pass).toBe(false);
  expect(errors.measured).toBe(4);
  // Every request failed: no answer's latency was measured, and the budget fails saying so.
  const p95 = result.verdicts.find((v) => v.budget.metric === 'p95Ms')!;
  expect(p95).toMatchObject({
    pass: false,
    measured: null,
    evidence: "every one of the 4 requests failed: no answer's latency was measured",
  });
});

test('open model: every request due fails at its time-out, and the budgets fail', async () => {
  const scenario = scenarioSchema.parse({
    request: 'GET /list',
    rate: 10,
    durationMs: 1000,
    timeoutMs: 1000,
    budgets: 'errors=0',
  });
  const result = await runScenario(url, 'hung', scenario);
  expect(result.requests).toBe(10);
  expect(result.errors).toBe(10);
  expect(result.verdicts[0]!.pass).toBe(false);
});

test('what is achieved is reported, not the target: a server that answers nothing served 0 requests/s of 10', async () => {
  const scenario = scenarioSchema.parse({ request: 'GET /list', rate: 10, durationMs: 1000, timeoutMs: 500 });
  const result = await runScenario(url, 'hung', scenario);
  expect(result.rps).toBe(0);
  expect(result.targetRps).toBe(10);
});
