// `dbproof init`: a team's project gets a commented dbproof.config.ts, an example suite of its
// own and a CI job, never over a file; and a run with no config says so in one line naming
// init, where it used to run the reference app's demo without a word (`--demo` asks for it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { planRun } from '../../harness/run/index.ts';
import { BIN, runCli, type CliResult } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GITHUB = '.github/workflows/dbproof.yml';
const GITLAB = '.gitlab-ci.yml';

/** A project folder: its package.json (none when undefined) and `node_modules/dbproof` linked to this checkout, as `npm install -D dbproof` would give it. */
function project(name: string, manifest?: object): string {
  const dir = tempDir(`init-${name}`);
  if (manifest) writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'dbproof'));
  return dir;
}

/** Every file below `dir` (node_modules aside), relative to it, sorted. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith('node_modules'))
    .sort();
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');

/** A usage error: exit 2, exactly one `dbproof: ` line on stderr, nothing on stdout. */
function expectOneLine(result: CliResult, message: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }, result.stderr).toEqual({ code: 2, stdout: '' });
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^dbproof: /);
  expect(lines[0]).toMatch(message);
}

describe('dbproof init', () => {
  test('in an empty folder it writes a config, an example suite and the GitHub workflow, as .mts (no "type": "module")', async () => {
    const dir = tempDir('init-empty');
    const result = await runCli(['init'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(files(dir)).toEqual([GITHUB, 'dbproof.config.mts', 'dbproof/suites/list-endpoint.mts'].sort());
    expect(result.stdout).toMatch(
      /^wrote dbproof\.config\.mts, dbproof\/suites\/list-endpoint\.mts, \.github\/workflows\/dbproof\.yml$/m,
    );
    expect(result.stdout).toMatch(/^next: npm install -D dbproof, then .*npx dbproof gate$/m);
    const config = read(dir, 'dbproof.config.mts');
    expect(config).toContain("import { defineConfig } from 'dbproof';");
    expect(config).toContain("use: './dbproof/suites/list-endpoint.mts'");
  });

  test('in an ES module package the files are .ts, and package.json scripts.start becomes app.command', async () => {
    const dir = project('start', { name: 'orders-api', type: 'module', scripts: { start: 'node server.js' } });
    const result = await runCli(['init'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(files(dir)).toEqual([GITHUB, 'dbproof.config.ts', 'dbproof/suites/list-endpoint.ts', 'package.json'].sort());
    const config = read(dir, 'dbproof.config.ts');
    expect(config).toContain("command: 'npm start',");
    expect(config).toContain("name: 'orders-api',");
    expect(config).not.toContain('REPLACE');
    expect(result.stdout).toContain("app.command: npm start (package.json's scripts.start)");
  });

  test('without scripts.start app.command is a placeholder the config and the output say to replace', async () => {
    const dir = project('no-start', { name: 'orders-api', type: 'module', scripts: { build: 'tsc' } });
    const result = await runCli(['init'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(read(dir, 'dbproof.config.ts')).toMatch(
      /\/\/ REPLACE: the command that starts your app.*\n(.*\n)*\s+command: '/,
    );
    expect(result.stdout).toMatch(/app\.command: a placeholder .*replace it/);
  });

  test('the GitHub workflow installs Postgres and Redis, gates, and keeps the summary and results whatever the gate said', async () => {
    const dir = tempDir('init-github');
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
    const workflow = read(dir, GITHUB);
    for (const step of [
      'actions/checkout@v4',
      'node-version: 20',
      'run: npm ci',
      'apt-get install -y -qq postgresql postgresql-contrib redis-server',
      'run: npx dbproof gate',
      'cat results/latest/summary.md >> "$GITHUB_STEP_SUMMARY"',
      'actions/upload-artifact@v4',
      'path: results/latest/',
    ])
      expect(workflow).toContain(step);
    // Both the summary and the upload run after a failed gate.
    expect(workflow.match(/if: always\(\)/g)).toHaveLength(2);
    expect(workflow).not.toMatch(/\t/);
  });

  test('--ci gitlab writes .gitlab-ci.yml instead: the same steps, the results copied out of the link and kept always', async () => {
    const dir = tempDir('init-gitlab');
    const result = await runCli(['init', '--ci', 'gitlab'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(files(dir)).toEqual([GITLAB, 'dbproof.config.mts', 'dbproof/suites/list-endpoint.mts'].sort());
    const job = read(dir, GITLAB);
    for (const step of [
      'image: node:20',
      'postgresql postgresql-contrib redis-server',
      '- npm ci',
      '- npx dbproof gate',
      'cp -rL results/latest dbproof-results',
      'when: always',
      'junit: dbproof-results/junit.xml',
    ])
      expect(job).toContain(step);
  });

  test('--ci none writes no CI file; --dir writes into another folder and says to cd there', async () => {
    const at = tempDir('init-dir');
    mkdirSync(path.join(at, 'app'));
    const result = await runCli(['init', '--dir', 'app', '--ci', 'none'], { cwd: at });
    expect(result.code, result.stderr).toBe(0);
    expect(files(at)).toEqual(['app/dbproof.config.mts', 'app/dbproof/suites/list-endpoint.mts']);
    expect(result.stdout).toMatch(/^next: cd app, then /m);
  });

  test('it never overwrites: one file there, nothing written, exit 2, the file named in one line', async () => {
    const dir = project('exists', { type: 'module' });
    writeFileSync(path.join(dir, 'dbproof.config.ts'), '// the team’s own\n');
    const before = files(dir);
    const result = await runCli(['init'], { cwd: dir });
    expectOneLine(
      result,
      /^dbproof: dbproof\.config\.ts already exists in .*: dbproof init writes nothing over a file/,
    );
    expect(files(dir)).toEqual(before);
    expect(read(dir, 'dbproof.config.ts')).toBe('// the team’s own\n');
  });

  test('a second init names every file the first wrote, and writes nothing', async () => {
    const dir = tempDir('init-twice');
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
    const before = files(dir).map((file) => [file, read(dir, file)]);
    const again = await runCli(['init'], { cwd: dir });
    expectOneLine(
      again,
      /dbproof\.config\.mts, dbproof\/suites\/list-endpoint\.mts, \.github\/workflows\/dbproof\.yml already exist in /,
    );
    expect(files(dir).map((file) => [file, read(dir, file)])).toEqual(before);
  });

  test.each([
    [['--bogus'], /unknown option --bogus for 'dbproof init'/],
    [['--ci', 'circle'], /--ci must be one of github, gitlab, none \(got 'circle'\)/],
    [['--dir', 'nope'], /--dir .*nope: no such folder/],
    [['here'], /unexpected argument 'here' for 'dbproof init'/],
  ])('bad input %j: exit 2, one line, nothing written', async (args, message) => {
    const dir = tempDir('init-bad');
    expectOneLine(await runCli(['init', ...args], { cwd: dir }), message);
    expect(files(dir)).toEqual([]);
  });

  test.each([
    ['an ES module package (.ts)', { name: 'orders-api', type: 'module', scripts: { start: 'node server.js' } }],
    ['a CommonJS package (.mts)', { name: 'orders-api', scripts: { start: 'node server.js' } }],
  ])(
    'the config it writes in %s plans: its suites (the example one loaded from its file) and scenario validate',
    async (_, manifest) => {
      const dir = project('plan', manifest);
      expect((await runCli(['init', '--ci', 'none'], { cwd: dir })).code).toBe(0);
      const config = path.join(dir, 'type' in manifest ? 'dbproof.config.ts' : 'dbproof.config.mts');
      const plan = await planRun({ config });
      expect(plan.suites.map((s) => s.suite.name)).toEqual(['n-plus-one', 'list-endpoint']);
      expect(plan.suites[1]!.suite.description).toMatch(/list endpoint/);
      expect(plan.scenarios).toEqual(['items-list']);
      expect(plan.configDir).toBe(dir);
      expect(plan.dataset).toBeUndefined();
    },
  );

  test('the files it writes type-check against dbproof (strict, NodeNext): the config typed by defineConfig, the suite by defineSuite', () => {
    const dir = project('types', { name: 'orders-api', type: 'module', scripts: { start: 'node server.js' } });
    execFileSync(process.execPath, [BIN, 'init', '--ci', 'none'], { cwd: dir, stdio: 'ignore' });
    // dbproof's own source stands for its published types (dist/ may be stale in a checkout).
    const compilerOptions = {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      customConditions: ['dbproof-source'],
      allowImportingTsExtensions: true,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules/@types')],
    };
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, include: ['dbproof.config.ts', 'dbproof/**/*.ts'] }),
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const check = () => spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    const clean = check();
    expect(clean.status, clean.stdout).toBe(0);
    // The negative control: a misspelt option is caught, so the check above checked something.
    const suite = path.join(dir, 'dbproof/suites/list-endpoint.ts');
    writeFileSync(
      suite,
      read(dir, 'dbproof/suites/list-endpoint.ts').replace('options.budgets.p99Ms,', 'options.budgets.p99,'),
    );
    const broken = check();
    expect(broken.status).not.toBe(0);
    expect(broken.stdout).toMatch(/list-endpoint\.ts.*Property 'p99' does not exist/);
  });
});

describe('a run with no config', () => {
  test.each([['gate'], ['test'], ['baseline']])(
    '`dbproof %s` in a folder without dbproof.config.ts: one line naming init and --demo, exit 2',
    async (command) => {
      const dir = tempDir('no-config');
      const result = await runCli([command], { cwd: dir });
      expectOneLine(
        result,
        /^dbproof: no dbproof\.config\.ts in .*: run `npx dbproof init` to write one, or pass --config FILE \(--demo runs the reference app's demo\)$/,
      );
      expect(files(dir)).toEqual([]);
    },
  );

  test("--demo reads the reference app's demo config (past it, a bad --provider is what is refused); with --config it is refused", async () => {
    const dir = tempDir('demo');
    // The demo's config is read (no "no dbproof.config.ts" line): planning stops at the provider, before anything starts.
    expectOneLine(
      await runCli(['test', '--demo', '--provider', 'bogus'], { cwd: dir }),
      /invalid topology option provider/,
    );
    expectOneLine(
      await runCli(['gate', '--demo', '--config', 'x.ts'], { cwd: dir }),
      /give --config FILE or --demo \(the reference app's demo config\), not both/,
    );
    expect(files(dir)).toEqual([]);
    const help = await runCli(['gate', '--help'], { cwd: dir });
    expect(help.stdout).toContain('[--config FILE | --demo]');
  });

  test('a ./dbproof.config.mts is read when there is no ./dbproof.config.ts', async () => {
    const dir = project('mts', { name: 'orders-api', scripts: { start: 'node server.js' } });
    expect((await runCli(['init', '--ci', 'none'], { cwd: dir })).code).toBe(0);
    // Read and planned: what stops it is the provider, not a missing config.
    expectOneLine(await runCli(['test', '--provider', 'bogus'], { cwd: dir }), /invalid topology option provider/);
  });
});
