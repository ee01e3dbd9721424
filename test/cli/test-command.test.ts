// `dbproof test <suite> --config FILE`: a suite pointed at any app through the config.
// Exit 0 when its budgets hold, 1 when one is broken, 2 on bad input (one line, nothing
// started, nothing written); --json prints the measurements and verdicts.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { instancesCapacity } from '../../harness/app/index.ts';
import { readRunResult } from '../../harness/results/writers/index.ts';
import { BIN, runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { exampleAppCommand } from '../../example/launch.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON_APP = path.join(ROOT, 'test/apps/python_app.py');
const dir = tempDir('test-command');
const resultsDir = path.join(dir, 'results');
// As in a team's ESM project: the config is a module.
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

/**
 * Writes a config file (plain object: no import needed) and returns its path. JavaScript: a
 * .ts config costs each dbproof process tsx's loader (about 0.4 s of CPU), and what these
 * tests check does not depend on the config's language (test/cli/init.test.ts and the
 * bad-input table load .ts configs).
 */
// The machine is not watched in these tests (noise.monitor false): they assert FAILs on purpose, which a
// busy machine must not turn INCONCLUSIVE; test/run/noise-judging.test.ts covers judging with the noise in view.
function config(name: string, body: object | string): string {
  const file = path.join(dir, `${name}.config.mjs`);
  writeFileSync(
    file,
    typeof body === 'string'
      ? body
      : `export default ${JSON.stringify({ results: { dir: resultsDir }, noise: { monitor: false }, ...body }, null, 2)};\n`,
  );
  return file;
}

const referenceApp = (env: Record<string, string> = {}) => ({
  name: 'reference app',
  command: exampleAppCommand(),
  cwd: ROOT,
  env,
});
const dataset = { profile: 'inspections', scale: 0.002, seed: 5 };
// Shorter than the defaults: a 3.5 s fault still outlasts the recovery and p99 budgets (2 s + 1 s).
const quickReplicaLost = { durationMs: 5500, faultForMs: 3500 };

describe('bad input: exit 2, one line, nothing started or written', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'an unknown suite',
      ['test', 'nope', '--config', config('ok', { app: referenceApp() })],
      /no suite named 'nope'; the suites are n-plus-one, .*replica-lost, /,
    ],
    [
      'a missing config file',
      ['test', '--config', path.join(dir, 'missing.ts')],
      /--config: no such file .*missing\.ts/,
    ],
    [
      'a budget of the wrong type',
      [
        'test',
        '--config',
        config('bad-budget', { app: referenceApp(), suites: { 'replica-lost': { budgets: { errors: 'many' } } } }),
      ],
      /invalid option suites\.replica-lost\.budgets\.errors: /,
    ],
    [
      'an unknown budget',
      [
        'test',
        '--config',
        config('unknown-budget', { app: referenceApp(), suites: { 'replica-lost': { budgets: { errorz: 1 } } } }),
      ],
      /invalid option suites\.replica-lost\.budgets: .*errorz/,
    ],
    [
      'an unknown suite in the config',
      ['test', '--config', config('bogus', { app: referenceApp(), suites: { bogus: {} } })],
      /invalid suites\.bogus: no suite named 'bogus'/,
    ],
    ['no app', ['test', '--config', config('no-app', {})], /invalid app: /],
    [
      'an app with neither command nor url',
      ['test', '--config', config('empty-app', { app: { name: 'x' } })],
      /give app\.command .* or app\.url/,
    ],
    [
      'a bad topology',
      ['test', '--config', config('bad-topology', { app: referenceApp(), topology: { replicas: 12 } })],
      /invalid topology option replicas: /,
    ],
    [
      'a suite the topology cannot hold',
      ['test', 'replica-lost', '--config', config('no-replicas', { app: referenceApp(), topology: { replicas: 0 } })],
      /suite replica-lost needs at least 1 replica\(s\); the config's topology has 0/,
    ],
    [
      'more instances of the app than this machine runs at once',
      [
        'test',
        'rate-limit',
        '--config',
        config('too-many', { app: { ...referenceApp(), instances: Math.min(16, instancesCapacity().most + 1) } }),
      ],
      instancesCapacity().most < 16
        ? /^dbproof: app\.instances \d+ is more than this machine runs at once \((\d+ cores, 4 instances per core|\d+ MiB free, 150 MiB per instance): at most \d+\); set app\.instances to \d+ or fewer/
        : /invalid app option instances/,
    ],
    [
      'a config that does not load',
      ['test', '--config', config('throws', 'throw new Error("boom");\nexport default {};\n')],
      /could not be loaded: boom/,
    ],
    [
      'a bad request in a suite',
      [
        'test',
        '--config',
        config('bad-request', { app: referenceApp(), suites: { 'replica-lost': { read: 'FETCH inspections' } } }),
      ],
      /invalid option suites\.replica-lost\.read: a request such as 'GET \/path'/,
    ],
  ];
  test.each(cases)('%s', async (_, args, message) => {
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(result.stdout).toBe('');
    expect(existsSync(resultsDir) ? readdirSync(resultsDir) : []).toEqual([]);
  });
});

test('an app that exits before it is ready: exit 2 with its last output', async () => {
  const result = await runCli([
    'test',
    'replica-lost',
    '--config',
    config('dying-app', { app: { name: 'dying', command: 'echo "cannot reach $DATABASE_URL"; exit 3' } }),
  ]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/the app exited \(code 3\) before it was ready/);
  // Its output is shown, with the password hidden.
  expect(result.stderr).toMatch(/cannot reach postgres:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/app/);
});

test('the reference app keeps the replica-lost promise: exit 0, --json has the measurements and verdicts, the result is on disk', async () => {
  const file = config('good', { app: referenceApp(), dataset, suites: { 'replica-lost': quickReplicaLost } });
  const result = await runCli(['test', 'replica-lost', '--config', file, '--json']);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  const output = JSON.parse(result.stdout) as {
    pass: boolean;
    resultsDir: string;
    suites: {
      suite: string;
      pass: boolean;
      verdicts: { budget: { metric: string } }[];
      measurements: Record<string, number>;
    }[];
  };
  expect(output.pass).toBe(true);
  expect(output.suites.map((s) => s.suite)).toEqual(['replica-lost']);
  expect(output.suites[0]!.verdicts.map((v) => v.budget.metric)).toEqual(['errorsDuringFault', 'timeToRecoverMs']);
  expect(output.suites[0]!.measurements.requests).toBeGreaterThan(100);
  expect(readdirSync(path.join(output.resultsDir, 'suites'))).toEqual(['replica-lost--reference-app.json']);
  // The run's files, as the gate writes them: finished, passing, with the suite's verdicts.
  expect(readdirSync(output.resultsDir).sort()).toEqual([
    'junit.xml',
    'report.html',
    'suites',
    'summary.json',
    'summary.md',
  ]);
  const summary = await readRunResult(path.join(output.resultsDir, 'summary.json'));
  expect(summary).toMatchObject({ incomplete: false, pass: true, loads: [] });
  expect(summary.verdicts.map((v) => v.source)).toEqual(['suite replica-lost', 'suite replica-lost']);
  expect(result.stdout).not.toMatch(/:[^:@/\s]{16,}@127/); // no password in the output
});

test('the naive reference app breaks it: exit 1, and the failing verdict names the budget, the value and the margin', async () => {
  const file = config('naive', {
    app: referenceApp({ EXAMPLE_NAIVE: '1' }),
    dataset,
    suites: { 'replica-lost': quickReplicaLost },
  });
  const result = await runCli(['test', 'replica-lost', '--config', file]);
  expect(result.code, result.stderr + result.stdout).toBe(1);
  expect(result.stdout).toMatch(
    /FAIL {2}reads keep working while replica1 is lost — errorsDuringFault \[GET \/inspections-joined\?limit=5\] \d+ <= 1 \(margin -\d+\)/,
  );
  expect(result.stdout).toMatch(/^FAIL: 0 of 1 suite\(s\) kept every promise/m);
});

describe('an app that is not the reference app (Python, psycopg2, one connection, no breaker)', () => {
  const python = {
    name: 'python app',
    command: `/usr/bin/python3 ${JSON.stringify(PYTHON_APP)}`,
    ready: '/inspections-joined?limit=1',
  };

  test('it reads from the primary only, so losing a replica does not touch it: exit 0', async () => {
    const result = await runCli([
      'test',
      'replica-lost',
      '--config',
      config('python-ok', { app: python, dataset, suites: { 'replica-lost': quickReplicaLost } }),
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
  });

  test('it has no circuit breaker: exit 1', async () => {
    const suites = { 'circuit-breaker': { failures: 3, faultForMs: 3000, durationMs: 5000, requestTimeoutMs: 1000 } };
    const result = await runCli([
      'test',
      'circuit-breaker',
      '--config',
      config('python-breaker', { app: python, dataset, suites }),
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}the breaker opens after at most 3 failures — failuresBeforeOpen .* never /);
  });
});

test("a run that is killed (SIGKILL) leaves nothing: the app's process group and the topology are gone", async () => {
  const runsDir = tempDir('killed-runs');
  const file = config('killed', {
    app: referenceApp(),
    suites: { 'replica-lost': { durationMs: 60_000, faultAtMs: 50_000 } },
  });
  const child = spawn(process.execPath, [BIN, 'test', 'replica-lost', '--config', file], {
    env: { ...process.env, DBPROOF_TMPDIR: runsDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const appUrl = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /is ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) =>
      reject(new Error(`dbproof test exited (${code}) before the app was ready: ${stderr}`)),
    );
  });
  expect((await fetch(`${appUrl}/health`)).ok).toBe(true);
  child.kill('SIGKILL');
  const runs = path.join(runsDir, 'runs');
  const deadline = Date.now() + 20_000;
  let appAnswers = true;
  let runDirs: string[] = ['?'];
  while (Date.now() < deadline && (appAnswers || runDirs.length > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    appAnswers = await fetch(`${appUrl}/health`, { signal: AbortSignal.timeout(500) }).then(
      () => true,
      () => false,
    );
    runDirs = existsSync(runs) ? readdirSync(runs) : [];
  }
  expect(appAnswers).toBe(false);
  expect(runDirs).toEqual([]);
});
