// `dbproof drill`: the backup-restore suite alone, as a command. Bad input is one line, exit 2
// and nothing started; a drill prints its recovery time and point; a drill killed half-way
// leaves nothing behind (servers, archive, backup, restored nodes: the watchdog's).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { readRunResult } from '../../harness/results/writers/index.ts';
import { postgresImage } from '../../harness/providers/containers/images.ts';
import { BIN, runCli } from '../support/cli.ts';
import { deriveImage, dockerForTests, removeImage, skipWithoutEngine } from '../support/docker.ts';
import { waitUntilGone } from '../support/processes.ts';
import { tempDir } from '../support/temp.ts';
import { exampleAppCommand } from '../../example/launch.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('drill');
const resultsDir = path.join(dir, 'results');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
const CONFIG = path.join(dir, 'drill.config.ts');
// The machine is not watched (noise.monitor false): a busy machine must not turn a verdict INCONCLUSIVE here.
writeFileSync(
  CONFIG,
  `export default ${JSON.stringify(
    {
      topology: { replicas: 0, redis: false },
      dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
      app: {
        name: 'reference app',
        command: exampleAppCommand(),
        cwd: ROOT,
      },
      results: { dir: resultsDir },
      noise: { monitor: false },
      suites: { 'backup-restore': { durationMs: 6000 } },
    },
    null,
    2,
  )};\n`,
);

/** The run directories under a private DBPROOF_TMPDIR: none means nothing was started, or all was removed. */
const runsIn = (base: string) => (existsSync(path.join(base, 'runs')) ? readdirSync(path.join(base, 'runs')) : []);

describe('bad input gets one line, exit 2 and nothing started', () => {
  const base = tempDir('drill-bad-input');
  test.each([
    [
      ['--tool', 'barman'],
      {},
      /suites\.backup-restore\.tool: Invalid option: expected one of "pg_basebackup"\|"pgbackrest"/,
    ],
    [
      ['--pitr-at', '7s'],
      {},
      /pitrAtMs: the point-in-time target must fall inside the writes \(0 < pitrAtMs < durationMs = 6000\)/,
    ],
    [['--duration', '5s', '--pitr-at', '5s'], {}, /the point-in-time target must fall inside the writes/],
    [['--pitr-at', 'soon'], {}, /--pitr-at must be a duration such as 20s/],
    [['--archive-timeout', '1500ms'], {}, /--archive-timeout is whole seconds/],
    [
      ['--tool', 'pgbackrest'],
      { DBPROOF_PGBACKREST: '/nonexistent/pgbackrest' },
      /pgBackRest not found at \/nonexistent\/pgbackrest; install it with `apt-get install -y pgbackrest`/,
    ],
    [['--provider', 'compose'], {}, /backup-restore runs on the native and containers providers only \(.*compose/],
  ])('dbproof drill %j', async (args, env, message) => {
    const result = await runCli(['drill', '--config', CONFIG, ...args], { env: { DBPROOF_TMPDIR: base, ...env } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(runsIn(base)).toEqual([]);
  });
});

// Only the image can say whether it has pgBackRest: asked once the primary's container runs,
// then one line, exit 2, and the topology it started gone.
test('pgBackRest on containers with an image that lacks it: one line naming the fix, exit 2, nothing left', {
  ...skipWithoutEngine(dockerForTests('pgBackRest on containers')),
  timeout: 180_000,
}, async () => {
  const base = tempDir('drill-no-pgbackrest');
  const image = deriveImage(postgresImage(), 'no-pgbackrest', 'rm -f "$(command -v pgbackrest)"');
  try {
    const result = await runCli(['drill', '--config', CONFIG, '--provider', 'containers', '--tool', 'pgbackrest'], {
      env: { DBPROOF_TMPDIR: base, DBPROOF_PG_IMAGE: image },
    });
    expect(result.code, result.stderr).toBe(2);
    // Its progress up to the primary's start, then the one line that says what to do; no stack trace.
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      `dbproof: backup-restore: the image ${image} has no pgbackrest: build the local one (scripts/build-local-images.sh, which installs it), use an image that has it, or --tool pg_basebackup`,
    );
    expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
    expect(runsIn(base)).toEqual([]);
    // Its containers went with the run: none still uses the image.
    expect(execFileSync('docker', ['ps', '-aq', '--filter', `ancestor=${image}`], { encoding: 'utf8' }).trim()).toBe(
      '',
    );
  } finally {
    removeImage(image);
  }
});

test('a drill prints the recovery time and point, and the results list the missing writes by key', async () => {
  const base = tempDir('drill-runs');
  const result = await runCli(['drill', '--config', CONFIG, '--json'], { env: { DBPROOF_TMPDIR: base } });
  expect(result.code, result.stderr).toBe(0);
  const out = JSON.parse(result.stdout) as {
    pass: boolean;
    resultsDir: string;
    drill: { suite: string; measurements: Record<string, number | null>; notes: string[] };
  };
  expect(out.drill.suite).toBe('backup-restore');
  const m = out.drill.measurements;
  expect(m.rtoMs).toBeGreaterThan(0);
  expect(m.acknowledgedWrites).toBeGreaterThan(20);
  expect(m.pitrMismatches).toBe(0);
  if (m.missingWrites! > 0)
    expect(out.drill.notes.join('\n')).toMatch(/missing after the restore: d-[0-9a-f]+-\d+-\d+/);
  const summary = await readRunResult(path.join(out.resultsDir, 'summary.json'));
  expect(summary.suites.map((s) => s.suite)).toEqual(['backup-restore']);
  expect(readFileSync(path.join(out.resultsDir, 'summary.json'), 'utf8')).not.toMatch(
    /postgres(ql)?:\/\/[^"]*:[^"@]*@/,
  );
  expect(runsIn(base)).toEqual([]); // everything stopped and removed
}, 300_000);

test('a drill whose writes all fail (writeSql on a table that is not there) recovers nothing: its recovery point and point-in-time verdicts fail, measuring nothing', async () => {
  // Before, 0 missing of 0 written passed both: an RPO of 0 s and an exact point in time.
  const base = tempDir('drill-no-writes');
  const config = path.join(dir, 'no-writes.config.ts');
  writeFileSync(
    config,
    readFileSync(CONFIG, 'utf8').replace(
      '"durationMs": 6000',
      `"durationMs": 3000, "writeSql": "INSERT INTO no_such_table (key) VALUES ($1)"`,
    ),
  );
  const result = await runCli(['drill', '--config', config], { env: { DBPROOF_TMPDIR: base } });
  expect(result.code, result.stderr + result.stdout).toBe(1);
  for (const metric of ['rpoMs', 'pitrMismatches'])
    expect(result.stdout).toMatch(
      new RegExp(
        `FAIL {2}.* — ${metric} \\[POST /notes\\] never <= \\d+ .*\\n\\s+no write was acknowledged \\(last failed write: .*no_such_table.*\\): nothing to recover`,
      ),
    );
  expect(result.stdout).toMatch(/PASS {2}.* — restoreFailures /);
  expect(result.stdout).toMatch(
    /recovery point not measured, no write acknowledged, 0 of 0 acknowledged writes missing · point in time not checked/,
  );
  expect(runsIn(base)).toEqual([]);
}, 180_000);

test('a drill killed after its backup leaves nothing: servers ended, run directory with archive and backup removed', async () => {
  const base = tempDir('drill-killed');
  const child = spawn(process.execPath, [BIN, 'drill', '--config', CONFIG, '--duration', '60s'], {
    env: { ...process.env, DBPROOF_TMPDIR: base },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (/writers on POST \/notes/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the drill exited (${code}) before its writers started: ${stderr}`)));
  });
  const [run] = runsIn(base);
  const runDir = path.join(base, 'runs', run!);
  expect(readdirSync(runDir)).toEqual(expect.arrayContaining(['archive', 'backups', 'primary']));
  const postmaster = Number(readFileSync(path.join(runDir, 'primary', 'postmaster.pid'), 'utf8').split('\n')[0]);

  child.kill('SIGKILL');
  expect(await waitUntilGone([postmaster], 30_000)).toEqual([]);
  const deadline = Date.now() + 30_000;
  while (runsIn(base).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(runsIn(base)).toEqual([]);
}, 300_000);
