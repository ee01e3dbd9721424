import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';
import { endProcessesUnder, signalAll } from '../../process/node-processes.mjs';
import type { Watchdog } from '../../process/watchdog.ts';
import type { PostgresBinaries } from './binaries.ts';
import { currentUser, type RunAs } from './os-user.ts';
import { logTail, postgresProgram, spawnPostgres, waitForExit, waitUntilAccepting } from './postgres-process.ts';
import { baseDir, createBuildDir } from './run-dir.ts';

const run = promisify(execFile);

/** How many seeded data directories are kept (newest used first), and for how long. */
export const SEED_CACHE_ENTRIES = Number(process.env.DBPROOF_SEED_CACHE_ENTRIES ?? 3);
export const SEED_CACHE_MAX_AGE_DAYS = 7;

export function seedCacheRoot(): string {
  return path.join(baseDir(), 'cache', 'seeded');
}

function entryDir(bins: PostgresBinaries, key: string): string {
  if (!/^[a-z0-9_.-]+$/i.test(key)) throw new InfrastructureError(`invalid seed-cache key '${key}'`);
  return path.join(seedCacheRoot(), `pg${bins.version}-${currentUser()}-${key}`);
}

/** The cached, cleanly shut-down data directory for `key`, if there is one (and marks it used). */
export function lookupSeedCache(bins: PostgresBinaries, key: string): string | undefined {
  const dir = entryDir(bins, key);
  if (!existsSync(path.join(dir, 'data', 'PG_VERSION'))) return undefined;
  const now = new Date();
  utimesSync(dir, now, now);
  return path.join(dir, 'data');
}

/** Drops entries beyond the newest SEED_CACHE_ENTRIES and those unused for SEED_CACHE_MAX_AGE_DAYS. */
function evict(): void {
  const root = seedCacheRoot();
  if (!existsSync(root)) return;
  const entries = readdirSync(root)
    .map((name) => ({ dir: path.join(root, name), name }))
    .filter((e) => !e.name.includes('.building-'))
    .map((e) => ({ ...e, used: statSync(e.dir).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  const oldest = Date.now() - SEED_CACHE_MAX_AGE_DAYS * 86_400_000;
  entries.forEach((entry, i) => {
    if (i >= SEED_CACHE_ENTRIES || entry.used < oldest) rmSync(entry.dir, { recursive: true, force: true });
  });
}

/** Removes every cached seeded data directory. */
export function clearSeedCache(): number {
  const root = seedCacheRoot();
  if (!existsSync(root)) return 0;
  const names = readdirSync(root);
  rmSync(root, { recursive: true, force: true });
  return names.length;
}

/**
 * Keeps a copy of the primary's data directory for `key`: a base backup
 * (pg_basebackup over the private socket), brought to a clean shutdown by one
 * start and stop, so that it can be copied for every node of a later run exactly
 * as the initdb template is. Under the topology's `watchdog`: a kill while storing
 * leaves no server running and no build directory.
 */
export async function storeSeedCache(options: {
  bins: PostgresBinaries;
  runAs: RunAs | undefined;
  key: string;
  socketDir: string;
  primaryPort: number;
  watchdog: Watchdog;
  /** The topology's run directory: the copy's own socket goes there, and goes with it. */
  runDir: string;
}): Promise<void> {
  const { bins, runAs, key, watchdog } = options;
  const finalDir = entryDir(bins, key);
  if (existsSync(finalDir)) return;
  mkdirSync(seedCacheRoot(), { recursive: true, mode: 0o711 });
  const programs = [path.join(bins.binDir, 'pg_basebackup'), postgresProgram(bins)];
  const buildDir = createBuildDir(finalDir, programs);
  watchdog.watchDir(buildDir, programs);
  const dataDir = path.join(buildDir, 'data');
  // Short and in the run directory: a Unix socket path may not exceed 107 bytes, and the build directory's name is long.
  const socketDir = path.join(options.runDir, 'cs');
  for (const dir of [dataDir, socketDir]) {
    mkdirSync(dir, { mode: 0o700 });
    if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  }
  try {
    await run(
      path.join(bins.binDir, 'pg_basebackup'),
      [
        '-D',
        dataDir,
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
        '-h',
        options.socketDir,
        '-p',
        String(options.primaryPort),
        '-U',
        'dbproof',
      ],
      {
        uid: runAs?.uid,
        gid: runAs?.gid,
        cwd: buildDir,
      },
    ).catch((error: { stderr?: string }) => {
      throw new InfrastructureError(
        `pg_basebackup for the seed cache failed: ${error.stderr?.trim() ?? String(error)}`,
      );
    });
    const launch = {
      bins,
      runAs,
      dataDir,
      port: 5432,
      socketDir,
      logFile: path.join(buildDir, 'recover.log'),
      settings: { listen_addresses: '', fsync: false, dynamic_shared_memory_type: 'mmap' },
    };
    const child = spawnPostgres(launch);
    watchdog.watchNode(dataDir, child.pid!, 'SIGQUIT', [postgresProgram(bins)]);
    try {
      await waitUntilAccepting(child, launch, 120_000);
    } finally {
      signalAll([child.pid!], 'SIGINT');
      if (!(await waitForExit(child, 60_000)))
        await endProcessesUnder(dataDir, { programs, mainPid: child.pid, gentle: 'SIGQUIT' });
    }
    if (child.exitCode !== 0)
      throw new InfrastructureError(`the seed-cache copy did not shut down cleanly:\n${logTail(launch.logFile)}`);
    rmSync(path.join(dataDir, 'log'), { recursive: true, force: true });
    rmSync(path.join(buildDir, 'programs.json'), { force: true });
    watchdog.forgetDir(buildDir);
    try {
      renameSync(buildDir, finalDir);
    } catch {
      rmSync(buildDir, { recursive: true, force: true }); // another run stored the same key meanwhile
    }
    evict();
  } catch (error) {
    rmSync(buildDir, { recursive: true, force: true });
    watchdog.forgetDir(buildDir);
    throw error;
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
}
