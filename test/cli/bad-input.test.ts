import { chmodSync, readdirSync, existsSync } from 'node:fs';
import { tempDir } from '../support/temp.ts';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';

const stateDir = tempDir('state');
const runsDir = tempDir('runs');
// A private base directory: "nothing started" is then visible as "no run directory made".
const env = { DBPROOF_STATE_DIR: stateDir, DBPROOF_TMPDIR: runsDir };

describe('bad input gets one line, exit 2 and nothing started', () => {
  test.each([
    [['up', '--replicas', '-1'], /--replicas must be a whole number from 0 to 8 \(got '-1'\)/],
    [['up', '--replicas', 'abc'], /--replicas must be a whole number from 0 to 8 \(got 'abc'\)/],
    [['up', '--replicas', '9'], /--replicas must be a whole number from 0 to 8 \(got '9'\)/],
    [['up', '--replicas=2.5'], /--replicas must be a whole number/],
    [['up', '--replicas'], /--replicas needs a value/],
    [['up', '--colour', 'blue'], /unknown option --colour for 'dbproof up'/],
    [['up', '--json=yes'], /--json takes no value/],
    [['up', 'now'], /unexpected argument 'now'/],
    [['exec', '--replicas', '-1', '--', 'true'], /--replicas must be a whole number/],
    [['exec'], /needs a command after --/],
    [['exec', 'npm', 'test'], /put the command after --/],
    [['status', '--verbose'], /unknown option --verbose for 'dbproof status'/],
    [['launch'], /unknown command 'launch'/],
  ])('dbproof %j', async (args, message) => {
    const result = await runCli(args, { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    expect(result.stdout).toBe('');
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
    expect(existsSync(path.join(runsDir, 'runs')) ? readdirSync(path.join(runsDir, 'runs')) : []).toEqual([]);
  });

  test('missing Postgres binaries give the install command, not a stack trace', async () => {
    const result = await runCli(['up'], { env: { ...env, DBPROOF_PG_BIN: '/nonexistent/bin' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'dbproof: no Postgres server binaries (postgres, initdb) in /nonexistent/bin; install them with `apt-get install -y postgresql postgresql-contrib` or point DBPROOF_PG_BIN at the directory holding `postgres` and `initdb`',
    );
  });

  test('a missing redis-server gives the install command', async () => {
    const result = await runCli(['up'], { env: { ...env, DBPROOF_REDIS_SERVER: '/nonexistent/redis-server' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /redis-server not found at \/nonexistent\/redis-server; install it with `apt-get install -y redis-server`/,
    );
  });
});

describe('dbproof doctor', () => {
  test('passes on this machine and names each check', async () => {
    const result = await runCli(['doctor', '--json'], { env });
    const report = JSON.parse(result.stdout) as { healthy: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.checks.map((c) => c.name)).toEqual([
      'postgres',
      'postgres user',
      'redis-server',
      'pgbackrest',
      'docker engine',
      'k6',
      'free disk',
    ]);
    expect(report.healthy).toBe(true);
    expect(result.code).toBe(0);
  });

  test('fails (exit 1) when the postgres user cannot traverse DBPROOF_TMPDIR, and says how to fix it', async () => {
    const closed = tempDir('closed');
    chmodSync(closed, 0o700); // not traversable by anyone else
    const result = await runCli(['doctor'], { env: { ...env, DBPROOF_TMPDIR: closed } });
    if (process.getuid?.() === 0) {
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/FAIL\s+free disk\s+.*not traversable by the postgres user.*chmod o\+x/);
    } else {
      expect(result.code).toBe(0); // not root: Postgres runs as this user, who owns the directory
    }
  });

  test('fails (exit 1) and prints the install command when Postgres is missing', async () => {
    const result = await runCli(['doctor'], { env: { ...env, DBPROOF_PG_BIN: '/nonexistent/bin' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+postgres\s+no Postgres server binaries/);
    expect(result.stdout).toMatch(/fix: apt-get install -y postgresql postgresql-contrib/);
  });
});

describe('help', () => {
  test.each(['up', 'status', 'down', 'exec', 'doctor'])(
    'dbproof %s --help exits 0 and starts nothing',
    async (command) => {
      const result = await runCli([command, '--help'], { env });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`dbproof ${command}`);
    },
  );
});
