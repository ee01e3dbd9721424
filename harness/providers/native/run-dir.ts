import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, statSync, statfsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InfrastructureError } from '../../errors.ts';
import { endProcessesUnder, isAlive, readStat } from '../../process/node-processes.mjs';

const MIN_TMPFS_FREE = 4 * 2 ** 30;

/**
 * /dev/shm when it is a writable tmpfs with room to spare, else the OS temporary
 * directory. A test topology's data never needs to outlive a reboot, and on a
 * shared disk copying three data directories was seen to take from 0.1 s to 100 s;
 * in memory it takes 0.1 s every time.
 */
function defaultRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const stats = statfsSync('/dev/shm');
    if (stats.bavail * stats.bsize >= MIN_TMPFS_FREE) return '/dev/shm';
  } catch {
    // no usable /dev/shm
  }
  return os.tmpdir();
}

/**
 * Where the native provider keeps its files: `runs/` (one directory per topology,
 * removed on stop) and `cache/` (initdb templates, kept for speed). Per OS user, so
 * two users on one machine never share data directories. DBPROOF_TMPDIR overrides
 * (e.g. a disk for data sets larger than memory).
 */
export function baseDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = process.env.DBPROOF_TMPDIR ?? path.join(defaultRoot(), `dbproof-${uid}`);
  // 0711: the postgres user (when we are root) must traverse it, not list it.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  if (uid === 0 && (statSync(dir).mode & 0o001) === 0) {
    throw new InfrastructureError(`${dir} is not traversable by the postgres user, which runs the servers; \`chmod o+x ${dir}\` or set DBPROOF_TMPDIR to another directory`);
  }
  return dir;
}

interface Owner {
  pid: number;
  startTime: number | undefined;
}

function ownerIsAlive(owner: Owner): boolean {
  if (!isAlive(owner.pid)) return false;
  // A recycled PID belongs to another process: compare start times where /proc tells them.
  const stat = readStat(owner.pid);
  return owner.startTime === undefined || stat === undefined || stat.startTime === owner.startTime;
}

/** A fresh run directory, marked with its owner so that a later run can tell it is stale. */
export function createRunDir(): string {
  const runs = path.join(baseDir(), 'runs');
  mkdirSync(runs, { recursive: true, mode: 0o711 });
  const dir = path.join(runs, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o711 });
  const owner: Owner = { pid: process.pid, startTime: readStat(process.pid)?.startTime };
  writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner));
  return dir;
}

/** The main PID a node directory's PID file names (postmaster.pid, redis.pid), if any. */
function recordedMainPid(nodeDir: string): number | undefined {
  for (const file of ['postmaster.pid', 'redis.pid']) {
    const pidFile = path.join(nodeDir, file);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) return pid;
  }
  return undefined;
}

/**
 * Removes run directories whose owner is gone and that the watchdog could not clean
 * (the machine lost power, the watchdog was killed too), ending any process still
 * working in them. Only processes whose working directory is inside the stale run
 * are touched, so a PID recycled by an unrelated process is never signalled.
 */
export async function sweepStaleRuns(): Promise<void> {
  const runs = path.join(baseDir(), 'runs');
  if (!existsSync(runs)) return;
  for (const name of readdirSync(runs)) {
    const dir = path.join(runs, name);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      owner = undefined;
    }
    if (owner && ownerIsAlive(owner)) continue;
    const nodeDirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
    await Promise.all(nodeDirs.map((nodeDir) => endProcessesUnder(nodeDir, { mainPid: recordedMainPid(nodeDir), gentle: 'SIGQUIT', graceMs: 2000 })));
    await endProcessesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
