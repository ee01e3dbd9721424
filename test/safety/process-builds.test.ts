import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { sweepStaleRuns } from '../../harness/providers/native/run-dir.ts';
import { BIN, runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { deadPid } from './process-support.ts';

const CHILD = fileURLToPath(new URL('./process-child.ts', import.meta.url));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
});

/** PIDs of the processes working in `dir` or below (read from /proc, independently of the harness). */
function workingUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const cwd = readlinkSync(`/proc/${entry}/cwd`);
        return cwd === dir || cwd.startsWith(`${dir}/`);
      } catch {
        return false;
      }
    })
    .map(Number); // a zombie has no cwd to read: only live processes are listed
}

async function poll<T>(find: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const buildsIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.includes('.building-'))
        .map((n) => path.join(dir, n))
    : [];

/** The postmaster of a build in `cacheDir` once it runs, frozen so that the build cannot finish before the kill. */
async function frozenBuildServer(cacheDir: string): Promise<{ buildDir: string; pid: number }> {
  const found = await poll(() => {
    for (const buildDir of buildsIn(cacheDir)) {
      const pidFile = path.join(buildDir, 'data', 'postmaster.pid');
      // The server of the build, not initdb's bootstrap backend: it listens on the socket its pid file names.
      // Read, not checked then read: a short-lived server (initdb's) removes it in between.
      let lines: string[] = [];
      try {
        lines = readFileSync(pidFile, 'utf8').split('\n');
      } catch {
        // not written yet, or gone
      }
      if (lines[4] && existsSync(path.join(lines[4].trim(), '.s.PGSQL.5432')))
        return { buildDir, pid: Number(lines[0]) };
    }
    return undefined;
  }, 120_000);
  expect(found, 'a build server ran').toBeDefined();
  process.kill(found!.pid, 'SIGSTOP');
  return found!;
}

async function expectCleanedUp(buildDir: string): Promise<void> {
  const gone = await poll(
    () => (workingUnder(buildDir).length === 0 && !existsSync(buildDir) ? true : undefined),
    20_000,
  );
  const left = workingUnder(buildDir);
  for (const pid of left) process.kill(pid, 'SIGKILL'); // the test must not leak what the harness left
  expect(left).toEqual([]);
  expect(existsSync(buildDir)).toBe(false);
  expect(gone).toBe(true);
}

describe('a kill during a build leaves no server and no build directory', () => {
  test('SIGKILL of `up` while it builds the initdb template', async () => {
    const base = tempDir('builds-template'); // a fresh base directory: the template is built
    const up = spawn(process.execPath, [BIN, 'up', '--replicas', '0', '--no-redis'], {
      env: { ...process.env, DBPROOF_TMPDIR: base, DBPROOF_STATE_DIR: tempDir('builds-state') },
      stdio: 'ignore',
    });
    started.push(up);
    const { buildDir } = await frozenBuildServer(path.join(base, 'cache'));
    up.kill('SIGKILL');
    await expectCleanedUp(buildDir);
  });

  test('SIGKILL while storing a seeded data directory in the cache', async () => {
    const base = tempDir('builds-seeded');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'store-seed-cache'], {
      env: { ...process.env, DBPROOF_TMPDIR: base },
      stdio: 'ignore',
    });
    started.push(child);
    const { buildDir } = await frozenBuildServer(path.join(base, 'cache', 'seeded'));
    child.kill('SIGKILL');
    await expectCleanedUp(buildDir);
  });

  test('the next run removes a build directory whose builder is gone', async () => {
    const base = tempDir('builds-stale');
    const env = { DBPROOF_TMPDIR: base, DBPROOF_STATE_DIR: tempDir('builds-state') };
    const stale = [
      path.join(base, 'cache', `pg15-x-v2.building-${await deadPid()}-1-abcdef`),
      path.join(base, 'cache', 'seeded', `pg15-x-key.building-${await deadPid()}-1-abcdef`),
    ];
    for (const dir of stale) mkdirSync(path.join(dir, 'data'), { recursive: true });
    const result = await runCli(['exec', '--replicas', '0', '--no-redis', '--', 'true'], { env });
    expect(result.code).toBe(0);
    expect(stale.filter((dir) => existsSync(dir))).toEqual([]);
  });
});

describe('a run directory is never seen half-made', () => {
  test('a sweep racing thousands of run directories being created deletes none of them', async () => {
    const base = tempDir('builds-race');
    process.env.DBPROOF_TMPDIR = base;
    try {
      const creator = spawn(process.execPath, ['--import', 'tsx', CHILD, 'create-runs', '3000'], {
        env: { ...process.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      started.push(creator);
      let stderr = '';
      creator.stderr!.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => creator.once('exit', resolve));
      let running = true;
      void exited.then(() => (running = false));
      while (running) {
        await sweepStaleRuns();
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(stderr).toBe('');
      expect(await exited).toBe(0);
    } finally {
      delete process.env.DBPROOF_TMPDIR;
    }
  });
});
