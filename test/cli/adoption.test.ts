// What a team does on its first day, from outside the repository: `npm pack`, the tarball
// installed into a fresh project beside a small app of its own (an N+1 on its list endpoint),
// `dbproof init`, the config filled in, `dbproof gate` (exit 1, the N+1 named), the endpoint
// fixed (exit 0), and a vitest file on `dbproof/vitest` with its global setup. The install
// takes the dependencies from npm's cache where it has them (`--prefer-offline`): the
// checkout's own `npm ci` filled it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { compiledIsCurrent } from '../../harness/package-files.ts';
import { tempDir } from '../support/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP = fileURLToPath(new URL('../support/team-project/app.mjs', import.meta.url));

const project = tempDir('adoption');
const installed = path.join(project, 'node_modules', 'dbproof', 'bin', 'dbproof.js');
/** `npx dbproof …` in the project: its installed copy, never the checkout's. */
const dbproof = (args: string[]) => runCli(args, { bin: installed, cwd: project });

beforeAll(() => {
  // `npm test` builds first; a file run on its own builds here (only then: a build with
  // nothing to do still costs tsc about 5 s of CPU). Then the tarball as npm would publish it.
  if (!compiledIsCurrent())
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const packs = tempDir('adoption-pack');
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', packs], { cwd: ROOT });
  const [tarball] = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'team-app', version: '1.0.0', type: 'module', private: true, scripts: { start: 'node app.mjs', test: 'vitest run' } }, null, 2)}\n`,
  );
  copyFileSync(APP, path.join(project, 'app.mjs'));
  execFileSync(
    'npm',
    ['install', path.join(packs, tarball!), 'pg', 'vitest', '--prefer-offline', '--no-audit', '--no-fund', '--silent'],
    { cwd: project, stdio: 'ignore' },
  );
}, 300_000);

/** The config init wrote, with `replace`'s pairs changed: what a team fills in. */
function fillConfig(replace: [string | RegExp, string][]): void {
  const file = path.join(project, 'dbproof.config.ts');
  let source = readFileSync(file, 'utf8');
  for (const [from, to] of replace) {
    const next = source.replace(from, to);
    // The test follows init's template: a placeholder it no longer has fails here, by name.
    expect(next, `dbproof.config.ts has no ${from}`).not.toBe(source);
    source = next;
  }
  writeFileSync(file, source);
}

test('npm pack → install → init → gate finds the N+1 (exit 1) → the endpoint fixed (exit 0) → a vitest file on dbproof/vitest', async () => {
  const init = await dbproof(['init']);
  expect(init.code, init.stderr).toBe(0);
  for (const file of ['dbproof.config.ts', '.github/workflows/dbproof.yml'])
    expect(existsSync(path.join(project, file)), file).toBe(true);
  // The start command came from package.json.
  expect(readFileSync(path.join(project, 'dbproof.config.ts'), 'utf8')).toContain("command: 'npm start'");

  // Filled in: the app's list endpoint, a built-in data set its tables come from, short loads,
  // latency budgets a busy 2-core machine keeps (the verdicts asserted here are the N+1's and the errors').
  fillConfig([
    ['dataset: false', "dataset: { profile: 'inspections', scale: 0.002 }"],
    [/GET \/items\?limit=\{K\}/g, 'GET /inspections?limit={K}'],
    [/GET \/items\?limit=20/g, 'GET /inspections?limit=5'],
    [/durationMs: 5000/, 'durationMs: 1000'],
    [/durationMs: 10_000/, 'durationMs: 1500'],
    [/budgets: \{ p99Ms: 300, errors: 0 \}/, 'budgets: { p99Ms: 5000, errors: 0 }'],
    [/budgets: 'p95=100ms,p99=250ms,errors=0'/, "budgets: 'p99=5s,errors=0'"],
  ]);
  const naive = await dbproof(['gate']);
  expect(naive.code, naive.stderr + naive.stdout).toBe(1);
  expect(naive.stdout).toMatch(/^FAIL suite n-plus-one$/m);
  expect(naive.stdout).toContain('select name from inspectors where id = $1 ran 5 → 25 times at sizes 5 → 25');
  // The team's suite and the scenario held.
  expect(naive.stdout).toMatch(/^PASS suite list-endpoint$/m);
  const summary = readFileSync(path.join(project, 'results', 'latest', 'summary.md'), 'utf8');
  expect(summary).toContain('select name from inspectors where id = $1');

  // The fix: one query with a join.
  const app = path.join(project, 'app.mjs');
  writeFileSync(app, readFileSync(app, 'utf8').replace("process.env.INSPECTIONS_JOINED === '1'", 'true'));
  const fixed = await dbproof(['gate']);
  expect(fixed.code, fixed.stderr + fixed.stdout).toBe(0);
  expect(fixed.stdout).toMatch(/^PASS suite n-plus-one$/m);

  // dbproof/vitest: the global setup starts a topology, a test kills a replica, the fixture heals it.
  writeFileSync(
    path.join(project, 'vitest.config.ts'),
    "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { globalSetup: ['dbproof/vitest/global-setup'], testTimeout: 60_000 } });\n",
  );
  writeFileSync(
    path.join(project, 'replica.test.ts'),
    `import pg from 'pg';
import { expect, test } from 'dbproof/vitest';

test('the other replica answers while replica1 is killed', async ({ topology }) => {
  await topology.replicas[0].kill();
  const reader = new pg.Client(topology.replicas[1].url);
  await reader.connect();
  expect((await reader.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
  await reader.end();
});
`,
  );
  const vitest = await runCli(['run'], {
    bin: path.join(project, 'node_modules', 'vitest', 'vitest.mjs'),
    cwd: project,
    env: { CI: '1' },
  });
  expect(vitest.code, vitest.stdout + vitest.stderr).toBe(0);
  expect(vitest.stdout).toMatch(/1 passed/);
}, 300_000);
