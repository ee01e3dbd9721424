// The package runs compiled: dist/ (npm run build) holds the JavaScript, bin/dbproof.js starts
// from it when it is current and from the TypeScript source (through tsx) when a source file
// is newer, and what `npm pack` ships is dist/, bin/, example/ and docker-compose.yml, with no
// TypeScript source and no tests. Checked on copies of the package in temporary folders.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { compiledIsCurrent } from '../../harness/package-files.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = ['harness', 'fixtures', 'load', 'suites'];

/** A copy of the package: `parts` from the checkout, node_modules linked. */
function copyOfPackage(parts: string[]): string {
  const dir = tempDir('package');
  for (const part of ['package.json', 'bin', 'example', 'docker-compose.yml', ...parts])
    cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function cli(dir: string, args: string[], cwd?: string) {
  return runCli(args, { bin: path.join(dir, 'bin', 'dbproof.js'), cwd: cwd ?? tempDir('cwd') });
}

beforeAll(() => {
  // `npm test` builds first; a file run on its own builds here (only then: a build with
  // nothing to do still costs tsc about 5 s of CPU).
  if (!compiledIsCurrent())
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'ignore' });
}, 180_000);

test('npm pack ships the compiled package, the demo and its types: no TypeScript source, no tests', () => {
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
  ) as [{ files: { path: string }[] }];
  const files = pack.files.map((f) => f.path);
  for (const expected of [
    'bin/dbproof.js',
    'dist/harness/cli/main.js',
    'dist/harness/index.d.ts',
    'dist/harness/index.js.map',
    'dist/load/engines/open-child.js',
    'dist/harness/faults/link-host.mjs',
    'dist/harness/providers/containers/node.sh',
    'example/dbproof.config.ts',
    'example/main.ts',
    'docker-compose.yml',
  ])
    expect(files).toContain(expected);
  expect(files.filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.js'))).toEqual([]);
  // No source, but the one file docker-compose.yml mounts by its path (./harness/…/node.sh).
  expect(files.filter((f) => /^(harness|fixtures|load|suites)\//.test(f))).toEqual([
    'harness/providers/containers/node.sh',
  ]);
  expect(files.filter((f) => f.includes('tsbuildinfo') || f.startsWith('dist/.built'))).toEqual([]);
});

test('the compiled package alone (no source) runs: help, a bad flag, a suite on the demo (topology, data set, app)', async () => {
  const dir = copyOfPackage(['dist']);
  expect(existsSync(path.join(dir, 'harness'))).toBe(false);
  const help = await cli(dir, ['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: dbproof <command>');
  const bad = await cli(dir, ['gate', '--bogus']);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toEqual([
    "dbproof: unknown option --bogus for 'dbproof gate'; see `dbproof gate --help`",
  ]);

  // The demo config (--demo) imports 'dbproof': from the package, that is dist/ (its "default" export).
  const cwd = tempDir('cwd');
  const n1 = await cli(dir, ['test', 'n-plus-one', '--demo'], cwd);
  expect(n1.stderr).not.toContain('internal error');
  expect(n1.code).toBe(0);
  expect(n1.stdout).toContain('PASS n-plus-one');
}, 120_000);

test('a checkout whose source is newer than dist/ runs the source; once built again, dist/', async () => {
  const dir = copyOfPackage(['dist', ...SOURCES, 'tsconfig.json']);
  const main = path.join(dir, 'harness', 'cli', 'main.ts');
  const stamp = path.join(dir, 'dist', '.built');
  // An edit after the build: the CLI must show it, not the build's old text.
  writeFileSync(main, readFileSync(main, 'utf8').replace('Usage: dbproof', 'Usage (edited): dbproof'));
  const edited = await cli(dir, ['--help']);
  expect(edited.code).toBe(0);
  expect(edited.stdout).toContain('Usage (edited): dbproof');
  // A build newer than every source file is used.
  const later = new Date(Date.now() + 60_000);
  utimesSync(stamp, later, later);
  const built = await cli(dir, ['--help']);
  expect(built.stdout).toContain('Usage: dbproof');
  expect(built.stdout).not.toContain('(edited)');
});

test('an engine started from source runs its compiled copy while the build is current, and its source once stale', async () => {
  const dir = copyOfPackage(['dist', ...SOURCES, 'tsconfig.json']);
  const files = (await import(
    path.join(dir, 'harness', 'package-files.ts')
  )) as typeof import('../../harness/package-files.ts');
  const child = path.join(dir, 'load', 'engines', 'open-child.ts');
  const later = new Date(Date.now() + 60_000);
  utimesSync(path.join(dir, 'dist', '.built'), later, later);
  expect(files.runnableModule(child)).toBe(path.join(dir, 'dist', 'load', 'engines', 'open-child.js'));
  // An edit after the build: the engine runs the edited source.
  const edited = new Date(Date.now() + 120_000);
  utimesSync(path.join(dir, 'load', 'engines', 'open-model.ts'), edited, edited);
  expect(files.runnableModule(child)).toBe(child);
  // A test file edited after the build is not built: it does not make the build stale.
  const test = path.join(dir, 'suites', 'pool', 'pool.test.ts');
  utimesSync(path.join(dir, 'load', 'engines', 'open-model.ts'), later, later);
  utimesSync(path.join(dir, 'dist', '.built'), edited, edited);
  utimesSync(test, new Date(Date.now() + 180_000), new Date(Date.now() + 180_000));
  expect(files.runnableModule(child)).toBe(path.join(dir, 'dist', 'load', 'engines', 'open-child.js'));
});
