import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { endGroup, isAlive, readStat } from '../../process/group.mjs';

/**
 * Where the native provider keeps its files: `runs/` (one directory per topology,
 * removed on stop) and `cache/` (initdb templates, kept for speed). Per OS user, so
 * two users on one machine never share data directories. DBPROOF_TMPDIR overrides.
 */
export function baseDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = process.env.DBPROOF_TMPDIR ?? path.join(os.tmpdir(), `dbproof-${uid}`);
  // 0711: the postgres user (when we are root) must traverse it, not list it.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
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

/** The PIDs recorded in a run directory's PID files (postmaster.pid, redis.pid). */
function recordedPids(runDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync(runDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const file of ['postmaster.pid', 'redis.pid']) {
      const pidFile = path.join(runDir, entry.name, file);
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0) pids.push(pid);
    }
  }
  return pids;
}

/**
 * True when the process works inside `runDir` (postgres and redis-server both chdir
 * into their data directory): a recycled PID of an unrelated process does not.
 */
function belongsToRun(pid: number, runDir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`).startsWith(runDir);
  } catch {
    return false;
  }
}

/**
 * Removes run directories whose owner is gone (a crash the watchdog could not
 * clean, e.g. the machine lost power), ending any process still running from them.
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
    for (const pid of recordedPids(dir)) {
      if (isAlive(pid) && belongsToRun(pid, dir)) await endGroup(pid, 'SIGQUIT', 2000);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
