// Issue 12, items 13 and 15, the load side: no input makes `dbproof load` or a scenario
// run for ever, and no load that measured nothing passes its budgets.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { judgeLoad, parseBudgets } from '../../harness/budgets/traffic.ts';
import { scenarioSchema } from '../../load/scenario.ts';
import { REFUSED, refusal, runCliWithin } from './validation-support.ts';

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const listen = async (server: net.Server): Promise<string> => {
  servers.push(server);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
let answering: string;
let seen = 0;
let silent: string;
let dripping: string;
let failing: string;
const drips = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  answering = await listen(
    http.createServer((_req, res) => {
      seen++;
      res.end('ok');
    }),
  );
  // Fails every request, at once.
  failing = await listen(
    http.createServer((_req, res) => {
      res.writeHead(500);
      res.end('down');
    }),
  );
  // Accepts connections, never answers.
  silent = await listen(net.createServer(() => {}));
  // Answers at once, then sends its body one byte every 200 ms, for ever: never idle, never done.
  dripping = await listen(
    http.createServer((_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write('.'), 200);
      drips.add(drip);
      res.once('close', () => {
        clearInterval(drip);
        drips.delete(drip);
      });
    }),
  );
});
afterAll(async () => {
  for (const drip of drips) clearInterval(drip);
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('dbproof load refuses what would run for ever or measure nothing (exit 2, one line, no engine)', () => {
  test.each([
    [
      '--connections 0.4 (rounded to 0 before)',
      ['--connections', '0.4'],
      /--connections must be a whole number from 1 to 10000 \(got '0\.4'\)/,
    ],
    ['--connections 2.5', ['--connections', '2.5'], /--connections must be a whole number from 1 to 10000/],
    [
      'a duration of 190,000 years',
      ['--duration', '99999999999m'],
      /--duration must be at most 60m \(got '99999999999m'\)/,
    ],
    ['a warm-up beyond 10 minutes', ['--warmup', '99999999999m'], /--warmup must be at most 10m/],
    ['a time-out beyond 10 minutes', ['--timeout', '99999999999m'], /--timeout must be at most 10m/],
    [
      'a rate and duration that give no request',
      ['--rate', '1', '--duration', '100ms'],
      /--rate 1 for 100ms sends no request: raise --rate or --duration/,
    ],
  ])('%s', async (_, args, message) => {
    const result = await runCliWithin(['load', answering, ...args], 30_000);
    expect(refusal(result), result.stderr).toEqual(REFUSED);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

test('a closed-model load against a server that never answers fails: each waiting connection is a failed request', async () => {
  // --no-monitor: a FAIL, not INCONCLUSIVE, however busy this machine is. Before, the requests
  // still waiting at the end were dropped and the load "measured no request" (exit 2).
  const result = await runCliWithin(
    [
      'load',
      silent,
      '--connections',
      '2',
      '--duration',
      '1s',
      '--budget',
      'p99=100ms,errors=0',
      '--json',
      '--no-monitor',
    ],
    60_000,
  );
  expect(result.hung, 'the load never ended').toBe(false);
  expect(result.code, result.stderr).toBe(1);
  const summary = JSON.parse(result.stdout);
  expect(summary).toMatchObject({ requests: 2, errors: 2, pass: false });
  expect(summary.verdicts.every((v: { pass: boolean }) => !v.pass)).toBe(true);
});

test('a request that never finishes (a body dripping for ever) is an error at --timeout, and the load ends', async () => {
  const result = await runCliWithin(
    [
      'load',
      `${dripping}/`,
      '--rate',
      '5',
      '--duration',
      '1s',
      '--timeout',
      '1s',
      '--budget',
      'errors=0',
      '--json',
      '--no-monitor',
    ],
    60_000,
  );
  expect(result.hung, 'the load never ended').toBe(false);
  expect(result.code, result.stderr).toBe(1);
  expect(JSON.parse(result.stdout)).toMatchObject({ requests: 5, errors: 5 });
});

test('an engine process that outlives its duration by the margin is killed and the load reported as an error (exit 2)', async () => {
  const target = `${answering}/frozen-engine`;
  const engines = () => {
    try {
      return execFileSync('pgrep', ['-f', `open-child\\.[jt]s.*${target}`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  seen = 0;
  const running = runCliWithin(
    ['load', target, '--rate', '20', '--duration', '1s', '--timeout', '1s', '--json'],
    120_000,
  );
  // Frozen once it is sending (so it has started): it will never report.
  while (seen === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const [pid] = engines();
  process.kill(pid!, 'SIGSTOP');
  const result = await running;
  expect(refusal(result), result.stderr).toEqual(REFUSED);
  expect(result.stderr).toMatch(
    /the load engine was still running \d+ s after its 1 s load \(and 1 s time-out\) should have ended; it was killed/,
  );
  expect(engines()).toEqual([]);
}, 150_000);

describe('a budget judged on zero requests never passes', () => {
  test('judgeLoad fails every budget when nothing was measured, saying so', () => {
    const empty = {
      requests: 0,
      errors: 0,
      errorRate: 0,
      rps: 0,
      latencyMs: { p50: 0, p90: 0, p95: 0, p99: 0, 'p99.9': 0, max: 0, mean: 0 },
    };
    const verdicts = judgeLoad(parseBudgets('p99=200ms,errors=0,errors=1%,max=1s'), empty);
    expect(verdicts.map((v) => v.pass)).toEqual([false, false, false, false]);
    expect(verdicts.map((v) => v.measured)).toEqual([null, null, null, null]);
    expect(verdicts[0]!.evidence).toBe('no request was measured: a budget judged on nothing cannot hold');
  });
});

test("a load whose every request failed, fast, fails its latency budgets: a failure's time is no answer's latency", async () => {
  // Before, the 500s' own times (a millisecond) made the p99 and the max pass: exit 0.
  const result = await runCliWithin(
    ['load', failing, '--rate', '20', '--duration', '1s', '--budget', 'p99=1s,max=1s,rps=1', '--json', '--no-monitor'],
    60_000,
  );
  expect(result.code, result.stderr).toBe(1);
  const summary = JSON.parse(result.stdout);
  expect(summary).toMatchObject({ requests: 20, errors: 20, pass: false });
  type Judged = { budget: { metric: string }; pass: boolean; measured: number | null; evidence?: string };
  const byMetric = Object.fromEntries((summary.verdicts as Judged[]).map((v) => [v.budget.metric, v]));
  for (const metric of ['p99Ms', 'maxMs'])
    expect(byMetric[metric]).toMatchObject({
      pass: false,
      measured: null,
      evidence: "every one of the 20 requests failed: no answer's latency was measured",
    });
  // Not a latency: judged on what was measured, as before.
  expect(byMetric.rps!.measured).not.toBeNull();
}, 60_000);

describe('scenarios: ranges that cannot be', () => {
  const message = (input: unknown) => {
    const parsed = scenarioSchema.safeParse(input);
    return parsed.success ? 'accepted' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };
  test('ids from > to (the id picker looped for ever)', () => {
    expect(message({ request: 'GET /a/{id}', ids: { from: 100, to: 1 } })).toBe(
      'ids: ids.from (100) must not be above ids.to (1)',
    );
  });
  test('a rate and duration that give no request', () => {
    expect(message({ request: 'GET /a', rate: 0.5, durationMs: 1000 })).toBe(
      'rate: rate 0.5/s for 1000 ms sends no request: raise rate or durationMs',
    );
  });
});
