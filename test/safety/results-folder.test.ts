// The results folder (results.dir, results.baseline): relative to the config file's
// folder, not the working directory; refused in one line (exit 2, nothing started, nothing
// made) when a run could not use it — under /proc (where writing hung), not writable,
// full, read-only, its `latest` not dbproof's link, or a corrupted baseline.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { createRunDirectory } from '../../harness/results/index.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ECHO_APP = path.join(ROOT, 'test/apps/echo-secrets-app.ts');
const dir = tempDir('results-folder');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

/** A config with one short load scenario (and one suite) against an app that answers /health; `results` as given. */
function config(name: string, results: object, where = dir): string {
  const file = path.join(where, `${name}.config.ts`);
  const app = { name: 'echo app', command: `node --import tsx ${JSON.stringify(ECHO_APP)}`, cwd: ROOT };
  const scenarios = { health: { request: 'GET /health', rate: 20, durationMs: 1000, budgets: 'errors=0' } };
  // The gate runs the suites of the config: only `dbproof test` runs this one (named on its command line).
  writeFileSync(
    file,
    `export default ${JSON.stringify({ app, topology: { replicas: 1 }, dataset: false, scenarios, results }, null, 2)};\n`,
  );
  return file;
}

function expectOneLine(result: CliResult, message: RegExp): void {
  expect(result.code, result.stderr + result.stdout).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  expect(result.stdout).toBe('');
}

describe('refused before anything starts: exit 2, one line, nothing made', () => {
  test.each(['gate', 'test'])(
    'a results.dir under /proc (%s): no hang',
    async (command) => {
      const file = config(`proc-${command}`, { dir: '/proc/dbproof-results' });
      const result = await runCli(
        command === 'gate' ? ['gate', '--config', file] : ['test', 'replica-lost', '--config', file],
      );
      expectOneLine(
        result,
        /cannot keep results in \/proc\/dbproof-results: it is on proc, a virtual file system; set results\.dir/,
      );
    },
    60_000,
  );

  test('results/latest that is a folder of the user: kept, and no run, no stray link beside it', async () => {
    const results = path.join(dir, 'latest-folder');
    mkdirSync(path.join(results, 'latest'), { recursive: true });
    writeFileSync(path.join(results, 'latest', 'notes.md'), 'mine\n');
    const result = await runCli(['gate', '--config', config('latest-folder', { dir: results })]);
    expectOneLine(
      result,
      /latest-folder\/latest is not dbproof's link to the newest run \(it is a folder\); move it away or set results\.dir/,
    );
    expect(readdirSync(results)).toEqual(['latest']);
    expect(readdirSync(path.join(results, 'latest'))).toEqual(['notes.md']);
  });

  test('results/latest that links elsewhere is not replaced', async () => {
    const results = tempDir('results-link');
    symlinkSync('/etc', path.join(results, 'latest'));
    await expect(createRunDirectory(results)).rejects.toThrow(/latest is a link to \/etc, not to a dbproof run/);
    expect(readdirSync(results)).toEqual(['latest']);
    expect(readlinkSync(path.join(results, 'latest'))).toBe('/etc');
  });

  test('a corrupted baseline.json: one line naming it', async () => {
    const results = path.join(dir, 'corrupt');
    mkdirSync(results);
    writeFileSync(path.join(results, 'baseline.json'), '{"schemaVersion": 1, "runId": "x", "loa');
    expectOneLine(
      await runCli(['gate', '--config', config('corrupt', { dir: results })]),
      /corrupt\/baseline\.json is not valid JSON \(.*\); restore it from version control, or delete it and run `dbproof baseline` again/,
    );
    expect(readdirSync(results)).toEqual(['baseline.json']);
    // `dbproof baseline --from` a corrupted summary.json: the same.
    expectOneLine(
      await runCli([
        'baseline',
        '--config',
        config('corrupt', { dir: results }),
        '--from',
        path.join(results, 'baseline.json'),
      ]),
      /baseline\.json is not valid JSON/,
    );
  });

  test('a results folder this user cannot write: one line naming it and the fix', async () => {
    const results = path.join(dir, 'not-mine');
    mkdirSync(results, { mode: 0o755 });
    const file = config('not-mine', { dir: path.join(results, 'runs') });
    chmodSync(file, 0o644);
    // As root every folder is writable: the CLI runs as nobody then (as CI runners usually are not root).
    const wrapper = process.getuid!() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    if (process.getuid!() !== 0) chmodSync(results, 0o555);
    const result = await runCli(['gate', '--config', file], { wrapper });
    expectOneLine(
      result,
      /cannot write in .*not-mine\/runs: permission denied; make it writable for this user or set results\.dir/,
    );
    expect(readdirSync(results)).toEqual([]);
  });
});

describe('a full or read-only file system (tmpfs mounts: root only)', () => {
  const mounts: string[] = [];
  const mount = (options: string): string | undefined => {
    const at = tempDir('results-mount');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at], { stdio: 'ignore' });
      mounts.push(at);
      return at;
    } catch {
      return undefined;
    }
  };
  afterAll(() => {
    for (const at of mounts) execFileSync('umount', [at]);
  });

  test('full: one line, nothing started', async (context) => {
    const at = mount('size=256k');
    if (!at) return context.skip();
    execFileSync('sh', ['-c', `cat /dev/zero > ${at}/filler || true`], { stdio: 'ignore' });
    rmSync(path.join(at, 'results'), { force: true });
    const result = await runCli(['gate', '--config', config('full', { dir: path.join(at, 'results') })]);
    expectOneLine(
      result,
      /cannot write in .*\/results: no space left on its device; free some space or set results\.dir/,
    );
    expect(readdirSync(at)).toEqual(['filler']);
  });

  test('read-only: one line, nothing started', async (context) => {
    const at = mount('ro,size=4m');
    if (!at) return context.skip();
    const result = await runCli(['gate', '--config', config('read-only', { dir: path.join(at, 'results') })]);
    expectOneLine(result, /cannot write in .*\/results: it is on a read-only file system; set results\.dir/);
  });
});

test("results.dir is relative to the config file's folder, and a missing baseline is said in one line", async () => {
  const project = tempDir('results-project');
  writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }\n');
  const file = config('relative', { dir: 'out' }, project);
  const elsewhere = tempDir('results-cwd');
  const result = await runCli(['gate', '--config', file], { cwd: elsewhere });
  expect(result.code, result.stderr + result.stdout).toBe(0);
  expect(existsSync(path.join(project, 'out', 'latest', 'summary.json'))).toBe(true);
  expect(readdirSync(elsewhere)).toEqual([]);
  expect(result.stderr).toMatch(
    /^dbproof: no baseline at .*\/out\/baseline\.json: the load scenarios are not checked for regressions \(`dbproof baseline` keeps a passing run as one\)$/m,
  );
  // `dbproof baseline` reads and writes the same folder, from anywhere.
  const kept = await runCli(['baseline', '--config', file], { cwd: elsewhere });
  expect(kept.code, kept.stderr).toBe(0);
  expect(existsSync(path.join(project, 'out', 'baseline.json'))).toBe(true);
  expect(readdirSync(elsewhere)).toEqual([]);
  // A scenario the baseline does not have is said too, not skipped in silence.
  writeFileSync(file, readFileSync(file, 'utf8').replace('"health"', '"health-renamed"'));
  const renamed = await runCli(['gate', '--config', file, '--json'], { cwd: elsewhere });
  expect(renamed.code, renamed.stderr).toBe(0);
  expect(renamed.stderr).toMatch(
    /^dbproof: the baseline .*\/out\/baseline\.json has no load health-renamed: not checked for regressions/m,
  );
}, 180_000);
