// `dbproof load <url>`: ad hoc load on one URL, as people use autocannon or wrk. Exit 0
// when every budget holds, 1 when one is broken, 2 on bad input (one line, no load run).
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { startInstantServer } from '../support/instant.ts';

let server: ChildProcess;
let url: string;

beforeAll(async () => {
  ({ url, process: server } = await startInstantServer());
});

afterAll(() => {
  server.kill('SIGTERM');
});

describe('bad input: exit 2, one line, no load', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['no URL', () => ['load'], /give one URL to load/],
    ['two URLs', () => ['load', url, url], /give one URL to load, .*\(got 2\)/],
    ['not a URL', () => ['load', 'localhost:3000'], /needs an http:\/\/ URL such as .* \(got 'localhost:3000'\)/],
    ['https', () => ['load', 'https://127.0.0.1:1/'], /needs an http:\/\/ URL/],
    [
      'both models with k6',
      () => ['load', url, '--rate', '10', '--connections', '2', '--engine', 'k6'],
      /with k6, give --rate \(open model\) or --connections/,
    ],
    ['a bad rate', () => ['load', url, '--rate', '-5'], /--rate must be a number greater than 0, at most 100000/],
    ['a bad duration', () => ['load', url, '--duration', '30'], /--duration must be a duration such as 30s/],
    [
      'a latency budget without a unit',
      () => ['load', url, '--budget', 'p99=200'],
      /a latency needs a unit, e\.g\. p99=200ms/,
    ],
    ['an unknown engine', () => ['load', url, '--engine', 'wrk'], /--engine must be dbproof or k6 \(got 'wrk'\)/],
    [
      'k6 to run and a k6 script to write',
      () => ['load', url, '--engine', 'k6', '--k6-script', 'x.ts'],
      /--engine k6 runs the load; --k6-script only writes the script: give one of the two/,
    ],
    [
      'an unknown budget metric',
      () => ['load', url, '--budget', 'p42=1ms'],
      /unknown metric 'p42'; the metrics are p50, p90, p95, p99, p99\.9, max, mean, errors, rps/,
    ],
    ['a malformed budget', () => ['load', url, '--budget', 'p99'], /--budget 'p99' is not metric=value/],
  ];
  test.each(cases)('%s', async (_, args, message) => {
    const result = await runCli(args());
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });
});

test('the open model with budgets that hold: exit 0, --json has the percentiles, counts, errors and model', async () => {
  // Run from a folder with no node_modules: the engine's process must find its loader in dbproof's own.
  const result = await runCli(
    ['load', url, '--rate', '100', '--duration', '1s', '--budget', 'p99=500ms,errors=0,rps=50', '--json'],
    { cwd: os.tmpdir() },
  );
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as Record<string, unknown> & {
    latencyMs: Record<string, number>;
    verdicts: { pass: boolean }[];
  };
  expect(summary).toMatchObject({
    model: 'open',
    engine: 'dbproof-open',
    rate: 100,
    // The open model's connections, sized from the rate (rate / 100, at least 10).
    connections: 10,
    durationMs: 1000,
    requests: 100,
    errors: 0,
    // What was achieved next to the target (every request answered, the last within the second).
    targetRps: 100,
    unsent: 0,
    pass: true,
  });
  expect(Object.keys(summary.latencyMs)).toEqual(['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean']);
  expect(summary.rps).toBeGreaterThan(90);
  expect(summary.rps).toBeLessThanOrEqual(100);
  expect(summary.verdicts.map((v) => v.pass)).toEqual([true, true, true]);
});

test('a budget the server cannot meet: exit 1, and the verdict line names the budget, the value and the margin', async () => {
  // --no-monitor: a FAIL, not INCONCLUSIVE, however busy this machine is (test/run/noise-judging.test.ts covers that).
  const result = await runCli(
    ['load', url, '--connections', '4', '--duration', '1s', '--budget', 'rps=100000000', '--no-monitor'],
    {
      cwd: os.tmpdir(),
    },
  );
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toMatch(
    /^FAIL {2}at least 100000000 requests per second are served — rps \[\/\] \d+(\.\d+)? >= 100000000 \(margin -\d+/m,
  );
});

test('an error budget fails when nothing answers: every request is an error', async () => {
  const { freePort } = await import('../../harness/providers/native/ports.ts');
  const result = await runCli([
    'load',
    `http://127.0.0.1:${await freePort()}/`,
    '--rate',
    '20',
    '--duration',
    '500ms',
    '--budget',
    'errors=0.1%',
    '--json',
    '--no-monitor', // a FAIL however busy this machine is
  ]);
  expect(result.code, result.stderr).toBe(1);
  expect(JSON.parse(result.stdout)).toMatchObject({ requests: 10, errors: 10, errorRate: 1, pass: false });
});

test('with no budget, a load on which every request failed does not pass: exit 2, one line naming the URL', async () => {
  const { freePort } = await import('../../harness/providers/native/ports.ts');
  const url = `http://127.0.0.1:${await freePort()}/`;
  const result = await runCli(['load', url, '--rate', '20', '--duration', '500ms', '--no-monitor']);
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr.trim().split('\n').at(-1)).toBe(
    `dbproof: every one of the 10 requests failed: nothing answered at ${url}; check that it is up and answers 2xx (or give --budget errors=… to judge the failures)`,
  );
});

test('a warm-up is run but left out of the figures', async () => {
  const result = await runCli(['load', url, '--rate', '50', '--duration', '1s', '--warmup', '1s', '--json']);
  expect(result.code, result.stderr).toBe(0);
  expect((JSON.parse(result.stdout) as { requests: number }).requests).toBe(50);
});

describe('the same load and budgets as a k6 script', () => {
  test('is TypeScript that type-checks against @types/k6, with the budgets as thresholds, and a k6-operator TestRun', async () => {
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { execFileSync } = await import('node:child_process');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-k6-'));
    try {
      const script = path.join(dir, 'orders.ts');
      const result = await runCli([
        'load',
        'http://127.0.0.1:3000/orders?limit=20',
        '--rate',
        '200',
        '--duration',
        '30s',
        '--budget',
        'p99=200ms,p50=20ms,errors=0.1%,rps=150',
        '--k6-script',
        script,
        '--k6-operator',
        '4',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /k6 is not on PATH here: run it where k6 is installed \(k6 run orders\.ts\)|run it: k6 run/,
      );
      const text = readFileSync(script, 'utf8');
      expect(text).toContain('"executor": "constant-arrival-rate"');
      expect(text).toContain('"rate": 200');
      expect(text).toContain('"duration": "30s"');
      expect(text).toMatch(/"http_req_duration": \[\s*"p\(99\)<=200",\s*"med<=20"\s*\]/);
      expect(text).toMatch(/"http_req_failed": \[\s*"rate<=0\.001"\s*\]/);
      expect(text).toMatch(/"http_reqs": \[\s*"rate>=150"\s*\]/);
      // Typed as k6 sees it: compiled against @types/k6 alone.
      const root = fileURLToPath(new URL('../..', import.meta.url));
      // A scenario's weighted mix with Zipf ids, as k6 runs it: typed too.
      const { k6Script } = await import('../../load/k6/script.ts');
      const { parseBudgets } = await import('../../harness/budgets/traffic.ts');
      const mixed = k6Script({
        url: 'http://127.0.0.1:1/',
        rate: 10,
        durationMs: 1000,
        budgets: parseBudgets('p99=1s'),
        ids: { from: 1, to: 80, skew: 1.1 },
        mix: [
          { request: 'GET /a/{id}', method: 'GET', path: '/a/{id}', weight: 3 },
          { request: 'DELETE /b', method: 'DELETE', path: '/b', weight: 1 },
        ],
      });
      expect(mixed).toMatch(
        /"name": "GET \/a\/\{id\}",\s*"method": "GET",\s*"url": "http:\/\/127\.0\.0\.1:1\/a\/\{id\}",\s*"weight": 3/,
      );
      expect(mixed).toContain('Zipf (s = 1.1) over ids 1–80');
      expect(mixed).toContain('{ tags: { name: entry.name } }');
      writeFileSync(path.join(dir, 'with-summary.ts'), mixed);
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module: 'ESNext',
            target: 'ES2020',
            moduleResolution: 'Bundler',
            types: ['k6'],
            typeRoots: [path.join(root, 'node_modules/@types')],
            skipLibCheck: true,
          },
          files: ['orders.ts', 'with-summary.ts'],
        }),
      );
      execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        stdio: 'pipe',
      });
      const manifest = readFileSync(`${script}.testrun.yaml`, 'utf8');
      expect(manifest).toMatch(/kind: TestRun\n[\s\S]*parallelism: 4\n[\s\S]*file: orders\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an error count becomes the script’s own counter, and a closed model constant VUs', async () => {
    const { k6Script } = await import('../../load/k6/script.ts');
    const { parseBudgets } = await import('../../harness/budgets/traffic.ts');
    const text = k6Script({
      url: 'http://127.0.0.1:1/',
      connections: 7,
      durationMs: 5000,
      budgets: parseBudgets('errors=3,max=1s'),
    });
    expect(text).toContain('"executor": "constant-vus"');
    expect(text).toContain('"vus": 7');
    expect(text).toMatch(/"failed_requests": \[\s*"count<=3"\s*\]/);
    expect(text).toMatch(/"http_req_duration": \[\s*"max<=1000"\s*\]/);
  });

  test('--engine k6 where k6 is not installed: exit 2, one line saying so and what to do', async () => {
    const result = await runCli(['load', url, '--engine', 'k6', '--rate', '10', '--duration', '1s'], {
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "dbproof: k6 is not on PATH: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/), or leave out the k6 engine (--engine k6, a scenario's engine: 'k6') to use dbproof's own",
    );
    expect(result.stdout).toBe('');
  });

  test("k6's points (--out json) are read into dbproof's figures: warm-up left out, failures and endpoints from k6's tags", async () => {
    const { readK6Points } = await import('../../load/k6/run.ts');
    const { summarise } = await import('../../load/summary.ts');
    // k6 cannot be installed where this was written: the lines follow k6's documented JSON output format.
    const at = (ms: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, 0) + ms).toISOString();
    const point = (endMs: number, value: number, name: string, expected = true) =>
      JSON.stringify({
        type: 'Point',
        metric: 'http_req_duration',
        data: {
          time: at(endMs),
          value,
          tags: { method: 'GET', name, status: expected ? '200' : '500', expected_response: String(expected) },
        },
      });
    const lines = [
      JSON.stringify({
        type: 'Metric',
        data: { type: 'trend', contains: 'time', tainted: null, thresholds: [], submetrics: null },
        metric: 'http_req_duration',
      }),
      point(10, 10, 'GET /a'), // started at 0: in the 500 ms warm-up
      point(600, 5, 'GET /a'),
      point(700, 40, 'GET /b', false),
      point(800, 4, 'GET /a'),
      JSON.stringify({
        type: 'Point',
        metric: 'http_reqs',
        data: { time: at(800), value: 1, tags: { name: 'GET /a' } },
      }),
    ].join('\n');
    const mix = [
      { request: 'GET /a', method: 'GET', path: '/a', weight: 3 },
      { request: 'GET /b', method: 'GET', path: '/b', weight: 1 },
    ];
    const report = readK6Points(lines, { url: 'http://127.0.0.1:1/', rate: 10, durationMs: 1000, warmupMs: 500, mix });
    expect(report).toMatchObject({ engine: 'k6', model: 'open', requests: 3, errors: 1 });
    expect(report.endpoints.map((e) => [e.request, e.requests, e.errors])).toEqual([
      ['GET /a', 2, 0],
      ['GET /b', 1, 1],
    ]);
    expect(report.buckets.map((b) => b.t)).toEqual([0, 100, 200]);
    expect(summarise(report, { rate: 10 }).latencyMs.max).toBeCloseTo(40, 1);
  });

  test('--k6-operator without --k6-script is refused', async () => {
    const result = await runCli(['load', url, '--k6-operator', '4']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--k6-operator N goes with --k6-script FILE/);
  });
});

test('a load killed with SIGKILL takes its engine process with it', async () => {
  const { spawn, execFileSync } = await import('node:child_process');
  const { BIN } = await import('../support/cli.ts');
  const engines = () => {
    try {
      return execFileSync('pgrep', ['-f', `open-child\\.[jt]s.*${url}`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean);
    } catch {
      return [];
    }
  };
  const child = spawn(process.execPath, [BIN, 'load', url, '--rate', '10', '--duration', '60s'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (engines().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(engines()).toHaveLength(1);
  child.kill('SIGKILL');
  const gone = Date.now() + 5000;
  while (engines().length > 0 && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(engines()).toEqual([]);
});

test('the machine is watched during a load: a line says what it did, --json carries it, --no-monitor leaves it out', async () => {
  const watched = await runCli(['load', url, '--connections', '2', '--duration', '500ms'], { cwd: os.tmpdir() });
  expect(watched.code, watched.stderr).toBe(0);
  expect(watched.stdout).toMatch(/^machine {2}\d+ of \d+ buckets saturated: probe woke up to [\d.]+ ms late/m);
  const json = await runCli(['load', url, '--connections', '2', '--duration', '500ms', '--json'], { cwd: os.tmpdir() });
  expect(JSON.parse(json.stdout).noise).toEqual({ saturated: expect.any(Boolean), evidence: expect.any(String) });
  const unwatched = await runCli(['load', url, '--connections', '2', '--duration', '500ms', '--json', '--no-monitor'], {
    cwd: os.tmpdir(),
  });
  expect(JSON.parse(unwatched.stdout).noise).toBeUndefined();
});
