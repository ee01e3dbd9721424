import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';
import { withClient } from '../../pg/client.ts';
import { endProcessesUnder, signalAll } from '../../process/node-processes.mjs';
import type { Watchdog } from '../../process/watchdog.ts';
import type { PostgresBinaries } from './binaries.ts';
import { currentUser, type RunAs } from './os-user.ts';
import {
  postgresProgram,
  socketConfig,
  spawnPostgres,
  waitForExit,
  waitUntilAccepting,
  logTail,
} from './postgres-process.ts';
import { baseDir, createBuildDir } from './run-dir.ts';

const run = promisify(execFile);

/** Bump when what the template holds changes, so old caches are not reused. */
const TEMPLATE_LAYOUT = 2;

/**
 * Authentication: dbproof's superuser `dbproof` may log in over the Unix socket by
 * peer authentication (the kernel vouches for the OS user; the socket directory is
 * private to the run), which is how the bootstrap sets the run's passwords and how
 * replicas stream. Everything over TCP needs a SCRAM password. Never `trust`.
 */
function pgHba(): string {
  return [
    '# written by dbproof (harness/providers/native/pristine.ts)',
    'local   all          dbproof  peer  map=dbproof',
    'local   replication  dbproof  peer  map=dbproof',
    'host    all          all      127.0.0.1/32  scram-sha-256',
    'host    replication  all      127.0.0.1/32  scram-sha-256',
    '',
  ].join('\n');
}

function pgIdent(runAs: RunAs | undefined): string {
  const osUsers = new Set([currentUser(), runAs?.username].filter((u): u is string => !!u));
  return [
    '# written by dbproof: OS users allowed to act as the dbproof superuser over the socket',
    ...[...osUsers].map((u) => `dbproof  ${u}  dbproof`),
    '',
  ].join('\n');
}

function writeOwned(file: string, text: string, runAs: RunAs | undefined): void {
  writeFileSync(file, text, { mode: 0o600 });
  if (runAs) chownSync(file, runAs.uid, runAs.gid);
}

function mkdirOwned(dir: string, runAs: RunAs | undefined, mode = 0o700): void {
  mkdirSync(dir, { recursive: true, mode });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
}

/** The roles, database and extensions every topology starts with; created once per cache. */
async function provision(socketDir: string, port: number): Promise<void> {
  await withClient(socketConfig(socketDir, port, 'template1'), async (client) => {
    // In template1, so every database created later (the app's, the fixtures' clones) has it.
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  });
  await withClient(socketConfig(socketDir, port), async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    // The system under test's role: owns its database, may create databases, is not a superuser,
    // so that the server can tell the app's queries from dbproof's.
    await client.query('CREATE ROLE app LOGIN CREATEDB');
    await client.query('CREATE DATABASE app OWNER app');
  });
}

/**
 * A cleanly shut-down data directory made by initdb and provisioned, cached per
 * Postgres version and OS user under `<DBPROOF_TMPDIR>/cache`. Every node of every
 * run starts from a copy of it: the primary as it is, each replica with
 * `standby.signal` (a copy taken before the primary's first start is a valid base
 * backup). Built in a temporary directory and renamed into place, so a crash while
 * building leaves nothing that looks ready; the build is under `watchdog`, so a kill
 * while building leaves no server running and no build directory either. WAL
 * segments are 1 MB instead of 16 MB: each node's copy is a third smaller, and no
 * test depends on the segment size.
 */
export async function ensurePristineDataDir(
  bins: PostgresBinaries,
  runAs: RunAs | undefined,
  watchdog: Watchdog,
): Promise<string> {
  const cacheRoot = path.join(baseDir(), 'cache');
  const key = `pg${bins.version}-${currentUser()}-v${TEMPLATE_LAYOUT}`;
  const finalDir = path.join(cacheRoot, key);
  if (existsSync(path.join(finalDir, 'data', 'PG_VERSION'))) return path.join(finalDir, 'data');

  mkdirSync(cacheRoot, { recursive: true, mode: 0o711 });
  const programs = [path.join(bins.binDir, 'initdb'), postgresProgram(bins)];
  const buildDir = createBuildDir(finalDir, programs);
  watchdog.watchDir(buildDir, programs);
  const dataDir = path.join(buildDir, 'data');
  const socketDir = path.join(buildDir, 'sock');
  const logFile = path.join(buildDir, 'initdb.log');
  try {
    mkdirOwned(socketDir, runAs);
    mkdirOwned(dataDir, runAs);
    try {
      await run(
        path.join(bins.binDir, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          'dbproof',
          '--auth-local=peer',
          '--auth-host=scram-sha-256',
          '-E',
          'UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
          '--wal-segsize=1',
        ],
        { uid: runAs?.uid, gid: runAs?.gid, cwd: buildDir, env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (error) {
      throw new InfrastructureError(
        `initdb failed: ${(error as { stderr?: string }).stderr?.trim() ?? String(error)}`,
        error,
      );
    }
    writeOwned(path.join(dataDir, 'pg_hba.conf'), pgHba(), runAs);
    writeOwned(path.join(dataDir, 'pg_ident.conf'), pgIdent(runAs), runAs);

    const port = 5432; // only a socket name here: listen_addresses is empty, the socket directory private
    const launch = {
      bins,
      runAs,
      dataDir,
      port,
      socketDir,
      logFile,
      settings: { listen_addresses: '', fsync: false, dynamic_shared_memory_type: 'mmap' },
    };
    const child = spawnPostgres(launch);
    watchdog.watchNode(dataDir, child.pid!, 'SIGQUIT', [postgresProgram(bins)]);
    try {
      await waitUntilAccepting(child, launch);
      await provision(socketDir, port);
    } finally {
      // SIGINT = fast shutdown: a clean shutdown checkpoint, which makes the directory a valid base backup.
      signalAll([child.pid!], 'SIGINT');
      if (!(await waitForExit(child, 30_000)))
        await endProcessesUnder(dataDir, { programs, mainPid: child.pid, gentle: 'SIGQUIT' });
    }
    if (child.exitCode !== 0)
      throw new InfrastructureError(`the template server did not shut down cleanly:\n${logTail(logFile)}`);
    rmSync(path.join(dataDir, 'log'), { recursive: true, force: true });
    rmSync(path.join(buildDir, 'programs.json'), { force: true });
    watchdog.forgetDir(buildDir);
    try {
      renameSync(buildDir, finalDir);
    } catch {
      // Another run built the same template at the same time; theirs is as good as ours.
      rmSync(buildDir, { recursive: true, force: true });
    }
    return path.join(finalDir, 'data');
  } catch (error) {
    rmSync(buildDir, { recursive: true, force: true });
    watchdog.forgetDir(buildDir);
    throw error;
  }
}
