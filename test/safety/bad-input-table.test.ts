// Issue 12, "Done when": a table of bad inputs across every command and the config. Each
// gets exactly one `dbproof: ` line on stderr, exit 2, no stack, nothing written (the
// working directory's tree is the same before and after; no results folder) and nothing
// left running (no process carries the case's private directory in its environment).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../../harness/providers/native/ports.ts';
import { runCliWithin } from './validation-support.ts';

/** At most this many cases run at a time (2 cores, shared), each within BOUND_MS. */
const CONCURRENCY = 3;
const BOUND_MS = 60_000;

const closedPort = await freePort();
const APP = `app: { url: 'http://127.0.0.1:${closedPort}' }`;
const config = (body: string) => ({ 'dbproof.config.ts': `export default { ${body} };\n` });
const scenario = (body: string) => config(`${APP}, scenarios: { s: { ${body} } }`);
const BAD_RUN = {
  'dbproof.config.ts': `export default { ${APP} };\n`,
  'results/latest/summary.json': '{"schemaVersion": 1, "runId": ',
};

interface Case {
  name: string;
  args: string[];
  /** Files in the working directory before the run (configs, data sets, results). */
  files?: Record<string, string>;
  /** The one stderr line, after `dbproof: `. */
  message: RegExp;
  env?: NodeJS.ProcessEnv;
}

const U = 'http://127.0.0.1:1/x?limit={K}';
// A database where nothing listens: the seed cases get past "no topology is up here" to their own check.
const CLOSED_DB = `postgres://u:pw-secret@127.0.0.1:${closedPort}/db`;
const L = `http://127.0.0.1:${closedPort}/`;
const CASES: Case[] = [
  // The command line, command by command.
  { name: 'no command', args: [], message: /^give a command, one of up, status, down/ },
  { name: 'unknown command', args: ['launch'], message: /^unknown command 'launch'/ },
  {
    name: 'up --replicas -1',
    args: ['up', '--replicas', '-1'],
    message: /--replicas must be a whole number from 0 to 8/,
  },
  {
    name: 'up --replicas 9',
    args: ['up', '--replicas', '9'],
    message: /--replicas must be a whole number from 0 to 8/,
  },
  {
    name: 'up --provider nope',
    args: ['up', '--provider', 'nope'],
    message: /--provider must be one of native, containers, compose/,
  },
  { name: 'up --colour', args: ['up', '--colour', 'blue'], message: /unknown option --colour/ },
  { name: 'up --json=yes', args: ['up', '--json=yes'], message: /--json takes no value/ },
  { name: 'up with an argument', args: ['up', 'now'], message: /unexpected argument 'now'/ },
  { name: 'status --verbose', args: ['status', '--verbose'], message: /unknown option --verbose/ },
  { name: 'status --provider nope', args: ['status', '--provider', 'nope'], message: /provider/ },
  { name: 'down --force', args: ['down', '--force'], message: /unknown option --force/ },
  { name: 'exec without a command', args: ['exec'], message: /needs a command after --/ },
  { name: 'exec without --', args: ['exec', 'npm', 'test'], message: /put the command after --/ },
  {
    name: 'exec --replicas 2.5',
    args: ['exec', '--replicas', '2.5', '--', 'true'],
    message: /--replicas must be a whole number/,
  },
  {
    name: 'exec of a missing path',
    args: ['exec', '--', '/nonexistent/tool'],
    message: /exec: no such command \/nonexistent\/tool/,
  },
  {
    name: 'exec of a command not on PATH',
    args: ['exec', '--', 'dbproof-no-such-command'],
    message: /exec: command not found on PATH/,
  },
  {
    name: 'exec of a file that is not executable',
    args: ['exec', '--', '/etc/passwd'],
    message: /exec: \/etc\/passwd is not executable/,
  },
  { name: 'seed --scale 0', args: ['seed', '--scale', '0'], message: /--scale must be a number greater than 0/ },
  { name: 'seed --scale abc', args: ['seed', '--scale', 'abc'], message: /--scale must be a number greater than 0/ },
  { name: 'seed --seed -1', args: ['seed', '--seed', '-1'], message: /--seed must be a whole number/ },
  {
    name: 'seed --profile and --dataset',
    args: ['seed', '--profile', 'saas', '--dataset', 'x.ts'],
    message: /give --profile or --dataset, not both/,
  },
  {
    name: 'seed --profile nope',
    args: ['seed', '--profile', 'nope', '--url', CLOSED_DB],
    message: /unknown profile 'nope'/,
  },
  { name: 'seed with no topology up', args: ['seed', '--scale', '0.01'], message: /no topology is up here to seed/ },
  {
    name: 'seed --url not postgres',
    args: ['seed', '--url', 'http://127.0.0.1:1/db'],
    message: /--url must be a postgres:\/\/ URL/,
  },
  {
    name: 'seed --url to a closed port',
    args: ['seed', '--scale', '0.001', '--url', CLOSED_DB],
    message: new RegExp(`127\\.0\\.0\\.1:${closedPort}`),
  },
  {
    name: 'seed --scale 1e12',
    args: ['seed', '--scale', '1e12', '--url', CLOSED_DB],
    message: /needs about .* free in .*lower the scale|connect to postgres:\/\/u:\*+@/,
  },
  {
    name: 'seed --dataset of a .env file',
    args: ['seed', '--dataset', '.env', '--url', CLOSED_DB],
    files: { '.env': 'DATABASE_PASSWORD=hunter2-secret\n' },
    message: /--dataset .*\.env is not a module/,
  },
  {
    name: 'seed --dataset of a missing file',
    args: ['seed', '--dataset', 'nope.ts', '--url', CLOSED_DB],
    message: /--dataset: no such file/,
  },
  { name: 'n1 without a URL', args: ['n1'], message: /give one URL with \{K\}/ },
  { name: 'n1 --sizes 5', args: ['n1', U, '--sizes', '5'], message: /at least two sizes/ },
  { name: 'n1 --sizes 25,5', args: ['n1', U, '--sizes', '25,5'], message: /strictly increasing/ },
  { name: 'n1 --sizes 5,5', args: ['n1', U, '--sizes', '5,5'], message: /strictly increasing/ },
  { name: 'n1 --sizes five', args: ['n1', U, '--sizes', 'five,25'], message: /--sizes must be whole numbers/ },
  { name: 'n1 of an ftp URL', args: ['n1', 'ftp://127.0.0.1/{K}'], message: /not an http\(s\) URL/ },
  { name: 'n1 of a URL without {K}', args: ['n1', 'http://127.0.0.1:1/x'], message: /has no \{K\}/ },
  { name: 'n1 --at without a URL', args: ['n1', '--at', '5'], message: /--at must be SIZE=URL/ },
  {
    name: 'n1 --repeats 0',
    args: ['n1', U, '--repeats', '0'],
    message: /--repeats must be a whole number from 1 to 20/,
  },
  {
    name: 'n1 --db-url not postgres',
    args: ['n1', U, '--db-url', 'mysql://x'],
    message: /--db-url must be a postgres:\/\/ URL/,
  },
  {
    name: 'n1 --db-url to a closed port',
    args: ['n1', U, '--db-url', `postgres://u:pw-secret@127.0.0.1:${closedPort}/app`],
    message: /could not connect to postgres:\/\/u:\*+@127\.0\.0\.1:\d+\/app \(connection refused\)/,
  },
  { name: 'n1 with no topology up', args: ['n1', U], message: /no database to watch/ },
  { name: 'load without a URL', args: ['load'], message: /give one URL to load/ },
  { name: 'load of an https URL', args: ['load', 'https://127.0.0.1:1/'], message: /needs an http:\/\/ URL/ },
  {
    name: 'load with both models, on k6',
    args: ['load', L, '--rate', '5', '--connections', '2', '--k6-script', 'x.ts'],
    message: /with k6, give --rate \(open model\) or --connections/,
  },
  {
    name: 'load --connections 0.4',
    args: ['load', L, '--connections', '0.4'],
    message: /--connections must be a whole number from 1 to 10000/,
  },
  {
    name: 'load --duration 99999999999m',
    args: ['load', L, '--duration', '99999999999m'],
    message: /--duration must be at most 60m/,
  },
  { name: 'load --timeout 0ms', args: ['load', L, '--timeout', '0ms'], message: /--timeout must be more than 0/ },
  {
    name: 'load --rate 1 --duration 100ms',
    args: ['load', L, '--rate', '1', '--duration', '100ms'],
    message: /sends no request/,
  },
  { name: 'load --budget p99=200', args: ['load', L, '--budget', 'p99=200'], message: /a latency needs a unit/ },
  { name: 'load --engine wrk', args: ['load', L, '--engine', 'wrk'], message: /--engine must be dbproof or k6/ },
  {
    name: 'load --k6-operator alone',
    args: ['load', L, '--k6-operator', '4'],
    message: /--k6-operator N goes with --k6-script FILE/,
  },
  {
    name: 'load --engine k6 without k6',
    args: ['load', L, '--engine', 'k6'],
    env: { PATH: '/usr/bin:/bin' },
    message: /k6 is not on PATH/,
  },
  { name: 'doctor --fix', args: ['doctor', '--fix'], message: /unknown option --fix/ },
  { name: 'test of an unknown suite', args: ['test', 'nope'], files: config(APP), message: /no suite named 'nope'/ },
  { name: 'test --config of a missing file', args: ['test', '--config', 'nope.ts'], message: /no such file/ },
  { name: 'gate --colour', args: ['gate', '--colour'], message: /unknown option --colour/ },
  {
    name: 'baseline of no run',
    args: ['baseline', '--from', 'results/nope'],
    files: config(APP),
    message: /no gate run at/,
  },
  { name: 'baseline of a corrupted summary.json', args: ['baseline'], files: BAD_RUN, message: /summary\.json/ },
  // The config, field by field (each found before anything starts).
  { name: 'config: no app', args: ['test'], files: config(''), message: /invalid app/ },
  {
    name: 'config: an unknown field',
    args: ['test'],
    files: config(`${APP}, colour: 'blue'`),
    message: /invalid config: Unrecognized key.*colour/i,
  },
  {
    name: 'config: a field of the wrong type',
    args: ['test'],
    files: config(`app: { url: 'http://127.0.0.1:1', readyTimeoutMs: 'soon' }`),
    message: /invalid app\.readyTimeoutMs/,
  },
  {
    name: 'config: a bad topology',
    args: ['test'],
    files: config(`${APP}, topology: { replicas: 'two' }`),
    message: /replicas/,
  },
  {
    name: 'config: an unknown suite',
    args: ['test'],
    files: config(`${APP}, suites: { nope: {} }`),
    message: /invalid suites\.nope: no suite named 'nope'/,
  },
  {
    name: "config: a suite's unknown option",
    args: ['test', 'replica-lost'],
    files: config(`${APP}, suites: { 'replica-lost': { colour: 1 } }`),
    message: /replica-lost/,
  },
  {
    name: 'config: app.url file:',
    args: ['test'],
    files: config(`app: { url: 'file:///etc/passwd' }`),
    message: /invalid app\.url: an http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'config: app.readyTimeoutMs -1',
    args: ['test'],
    files: config(`app: { url: 'http://127.0.0.1:1', readyTimeoutMs: -1 }`),
    message: /invalid app\.readyTimeoutMs/,
  },
  {
    name: 'config: a scenario POST',
    args: ['gate'],
    files: scenario(`request: 'POST /x'`),
    message: /invalid scenarios\.s\.request/,
  },
  {
    name: 'config: a scenario with ids from > to',
    args: ['gate'],
    files: scenario(`request: 'GET /x/{id}', ids: { from: 100, to: 1 }`),
    message: /invalid scenarios\.s\.ids: ids\.from \(100\) must not be above ids\.to \(1\)/,
  },
  {
    name: 'config: a k6 scenario with rate and connections',
    args: ['gate'],
    files: scenario(`request: 'GET /x', rate: 5, connections: 2, engine: 'k6'`),
    message: /with engine 'k6', give rate \(open model\) or connections/,
  },
  {
    name: 'config: a scenario that sends no request',
    args: ['gate'],
    files: scenario(`request: 'GET /x', rate: 0.5, durationMs: 1000`),
    message: /sends no request/,
  },
  {
    name: "config: a scenario's bad budget",
    args: ['gate'],
    files: scenario(`request: 'GET /x', budgets: 'p99=200'`),
    message: /invalid scenarios\.s\.budgets: .*a latency needs a unit/,
  },
  {
    name: 'config: a mix with an entry twice',
    args: ['gate'],
    files: scenario(`mix: [{ request: 'GET /a' }, { request: 'GET /a' }]`),
    message: /GET \/a is in the mix twice/,
  },
  {
    name: 'config: a k6 scenario without k6',
    args: ['gate'],
    env: { PATH: '/usr/bin:/bin' },
    files: scenario(`request: 'GET /x', engine: 'k6'`),
    message: /k6 is not on PATH/,
  },
  {
    name: 'config: a scenario name with a space',
    args: ['gate'],
    files: config(`${APP}, scenarios: { 'a b': { request: 'GET /x' } }`),
    message: /invalid scenarios\.a b: 'a b' is not a scenario name: use letters, digits, - and _/,
  },
  {
    name: 'config: dataset profile and file',
    args: ['test'],
    files: config(`${APP}, dataset: { profile: 'saas', file: 'x.ts' }`),
    message: /dataset\.profile or dataset\.file, not both/,
  },
  {
    name: 'config: an unknown dataset profile',
    args: ['test'],
    files: config(`${APP}, dataset: { profile: 'nope' }`),
    message: /invalid dataset\.profile: unknown profile 'nope'/,
  },
  {
    name: 'config: dataset.scale 1e12',
    args: ['test'],
    files: config(`${APP}, dataset: { profile: 'inspections', scale: 1e12 }`),
    message: /invalid dataset\.scale: .*needs about/,
  },
  {
    name: 'config: dataset.scale -1',
    args: ['test'],
    files: config(`${APP}, dataset: { scale: -1 }`),
    message: /invalid dataset\.scale/,
  },
  {
    name: 'config: dataset.file missing',
    args: ['test'],
    files: config(`${APP}, dataset: { file: 'nope.ts' }`),
    message: /no such file/,
  },
  {
    name: 'config: dataset.file a non-module',
    args: ['test'],
    files: { ...config(`${APP}, dataset: { file: 'data.env' }`), 'data.env': 'DATABASE_PASSWORD=hunter2-secret\n' },
    message: /data\.env is not a module/,
  },
  {
    name: 'config: results.regressionTolerance 99',
    args: ['gate'],
    files: config(`${APP}, results: { regressionTolerance: 99 }`),
    message: /invalid results\.regressionTolerance/,
  },
  {
    name: 'config: results.dir under /proc',
    args: ['gate'],
    files: config(`${APP}, scenarios: { s: { request: 'GET /x' } }, results: { dir: '/proc/dbproof-results' }`),
    message: /\/proc\/dbproof-results/,
  },
  {
    name: 'config: a corrupted baseline.json',
    args: ['gate'],
    files: { ...config(`${APP}, scenarios: { s: { request: 'GET /x' } }`), 'results/baseline.json': '{ "runId": ' },
    message: /baseline\.json/,
  },
  {
    name: 'config: not a module (.env)',
    args: ['test', '--config', '.env'],
    files: { '.env': 'DATABASE_PASSWORD=hunter2-secret\n' },
    message: /--config .*\.env is not a module/,
  },
  {
    name: 'config: a syntax error',
    args: ['test'],
    files: { 'dbproof.config.ts': 'export default { app: {\n' },
    message: /not valid TypeScript or JavaScript/,
  },
  {
    name: 'config: it throws a string',
    args: ['test'],
    files: { 'dbproof.config.ts': "throw 'no config today';\n" },
    message: /it threw 'no config today', not an Error/,
  },
  {
    name: 'config: default export a number',
    args: ['test'],
    files: { 'dbproof.config.ts': 'export default 42;\n' },
    message: /export default defineConfig/,
  },
];

/** Every file under `dir` with its size and modification time: "nothing written" is this unchanged. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => {
      const stats = statSync(path.join(dir, name));
      return `${name} ${stats.isDirectory() ? 'dir' : stats.size} ${stats.mtimeMs}`;
    });
}

/** Processes whose environment holds `marker` (the case's own folder): whatever the case started. */
function processesMarkedWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker);
      } catch {
        return false; // gone, or not ours to read
      }
    })
    .map(Number);
}

const root = mkdtempSync(path.join(os.tmpdir(), 'dbproof-bad-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let running = 0;
const waiting: (() => void)[] = [];
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

describe('bad input, across the CLI and the config: one line, exit 2, nothing written, nothing running', () => {
  test('the table has at least 50 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  test.concurrent.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_, c, i) => {
    const cwd = path.join(root, `case-${i}`);
    // A team's project is an ES module package: its dbproof.config.ts loads as one.
    for (const [name, text] of Object.entries({ 'package.json': '{ "type": "module" }\n', ...c.files })) {
      mkdirSync(path.dirname(path.join(cwd, name)), { recursive: true });
      writeFileSync(path.join(cwd, name), text);
    }
    mkdirSync(cwd, { recursive: true });
    const before = tree(cwd);
    const env = { DBPROOF_STATE_DIR: path.join(cwd, '.dbproof'), DBPROOF_TMPDIR: path.join(cwd, '.tmp'), ...c.env };
    const result = await inTurn(() => runCliWithin(c.args, BOUND_MS, { cwd, env }));
    const lines = result.stderr.trimEnd().split('\n');
    expect({ hung: result.hung, code: result.code, lines: lines.length, stdout: result.stdout }, result.stderr).toEqual(
      { hung: false, code: 2, lines: 1, stdout: '' },
    );
    expect(lines[0]).toMatch(/^dbproof: /);
    expect(lines[0]!.slice('dbproof: '.length)).toMatch(c.message);
    expect(result.stderr).not.toMatch(/^\s+at |internal error/m);
    expect(result.stderr).not.toMatch(/pw-secret|hunter2/);
    expect(tree(cwd)).toEqual(before);
    expect(processesMarkedWith(`${cwd}/`)).toEqual([]);
  });
});
