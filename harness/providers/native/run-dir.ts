import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  statSync,
  statfsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
  const dir = process.env.DBPROOF_TMPDIR
    ? path.resolve(process.env.DBPROOF_TMPDIR)
    : path.join(defaultRoot(), `dbproof-${uid}`);
  // 0711: the postgres user (when we are root) must traverse it, not list it.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  if (uid === 0 && (statSync(dir).mode & 0o001) === 0) {
    throw new InfrastructureError(
      `${dir} is not traversable by the postgres user, which runs the servers; \`chmod o+x ${dir}\` or set DBPROOF_TMPDIR to another directory`,
    );
  }
  return dir;
}

/** Who made a directory: a PID and its start time (a recycled PID is another process). */
interface Owner {
  pid: number;
  startTime: number | undefined;
}

/** What a run directory holds about its maker: who, and which executables it runs there. */
interface RunOwner extends Owner {
  programs: string[];
}

function thisProcess(): Owner {
  return { pid: process.pid, startTime: readStat(process.pid)?.startTime };
}

function ownerIsAlive(owner: Owner): boolean {
  if (!isAlive(owner.pid)) return false;
  // A recycled PID belongs to another process: compare start times where /proc tells them.
  const stat = readStat(owner.pid);
  return owner.startTime === undefined || stat === undefined || stat.startTime === owner.startTime;
}

/**
 * `<pid>-<start time>`: put in the name of a directory being built, it tells a sweep
 * whether the builder still runs before anything is written inside.
 */
function ownerTag(): string {
  const { pid, startTime } = thisProcess();
  return `${pid}-${startTime ?? 0}`;
}

/** The builder a name made with ownerTag() names (an older `<pid>-<hex>` name has no start time). */
function ownerInName(name: string, marker: string): Owner | undefined {
  const match = new RegExp(`${marker}(\\d+)-(?:(\\d+)-)?[0-9a-f]+$`).exec(name);
  if (!match) return undefined;
  const startTime = match[2] === undefined || match[2] === '0' ? undefined : Number(match[2]);
  return { pid: Number(match[1]), startTime };
}

export function runsDir(): string {
  return path.join(baseDir(), 'runs');
}

/**
 * Every `runs/` directory this user's dbproof may use, whatever the free space in
 * /dev/shm is now: DBPROOF_TMPDIR's when set, else both defaults. Nothing is created.
 */
export function runsRoots(): string[] {
  if (process.env.DBPROOF_TMPDIR) return [path.join(path.resolve(process.env.DBPROOF_TMPDIR), 'runs')];
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return [...new Set(['/dev/shm', os.tmpdir()])].map((root) => path.join(root, `dbproof-${uid}`, 'runs'));
}

/**
 * A fresh run directory, marked with its owner and the executables it will run, so
 * that a later run can tell it is stale and end only what was started in it. Made
 * under a temporary name and renamed: a concurrent sweep never sees it without its
 * owner.json (and would take it for a stale run).
 */
export function createRunDir(programs: readonly string[]): string {
  const runs = runsDir();
  mkdirSync(runs, { recursive: true, mode: 0o711 });
  const id = randomBytes(4).toString('hex');
  const creating = path.join(runs, `.creating-${ownerTag()}-${id}`);
  mkdirSync(creating, { mode: 0o711 });
  const owner: RunOwner = { ...thisProcess(), programs: [...programs] };
  writeFileSync(path.join(creating, 'owner.json'), JSON.stringify(owner));
  const dir = path.join(runs, `${process.pid}-${id}`);
  renameSync(creating, dir);
  return dir;
}

/**
 * A directory to build `finalDir` in (then renamed to it), named for its builder and
 * holding the executables the build runs: a sweep removes it, and ends those, once
 * the builder is gone.
 */
export function createBuildDir(finalDir: string, programs: readonly string[]): string {
  const dir = `${finalDir}.building-${ownerTag()}-${randomBytes(3).toString('hex')}`;
  mkdirSync(dir, { mode: 0o711 });
  writeFileSync(path.join(dir, 'programs.json'), JSON.stringify(programs));
  return dir;
}

/** Bytes a directory takes on disk (what copying it needs). */
export function diskUsage(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    bytes += entry.isDirectory() ? diskUsage(file) : lstatSync(file).blocks * 512;
  }
  return bytes;
}

/** Refuses, before anything is copied, a run that would fill the disk (cp would fail file by file). */
export function requireFreeSpace(copies: number, bytesEach: number): void {
  const runs = runsDir();
  mkdirSync(runs, { recursive: true, mode: 0o711 });
  const stats = statfsSync(runs);
  const free = stats.bavail * stats.bsize;
  const needed = copies * bytesEach;
  if (free < needed) {
    const mb = (bytes: number) => Math.ceil(bytes / 2 ** 20);
    throw new InfrastructureError(
      `${runs} has ${mb(free)} MB free; the ${copies} data directories need ${mb(needed)} MB: set DBPROOF_TMPDIR to a directory with more room`,
    );
  }
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

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && path.isAbsolute(v)) : [];
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return []; // removed meanwhile
  }
}

/** Ends what dbproof started in `dir` (its `programs`), node by node with the main process first, and removes it. */
async function removeStale(dir: string, programs: string[], nodeDirs: string[]): Promise<void> {
  await Promise.all(
    nodeDirs.map((nodeDir) =>
      endProcessesUnder(nodeDir, { programs, mainPid: recordedMainPid(nodeDir), gentle: 'SIGQUIT', graceMs: 2000 }),
    ),
  );
  await endProcessesUnder(dir, { programs });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Removes one run directory if its owner is gone, ending the servers still working
 * in it (by the programs its owner.json names: a process of anyone else that works
 * there is left alone). Returns false when the owner still runs.
 */
export async function sweepRunDir(dir: string): Promise<boolean> {
  const recorded = readJson(path.join(dir, 'owner.json')) as Partial<RunOwner> | undefined;
  const owner =
    recorded && Number.isInteger(recorded.pid)
      ? { pid: recorded.pid!, startTime: typeof recorded.startTime === 'number' ? recorded.startTime : undefined }
      : undefined;
  if (owner && ownerIsAlive(owner)) return false;
  if (!existsSync(dir)) return true;
  await removeStale(dir, stringArray(recorded?.programs), subdirectories(dir));
  return true;
}

/** Build directories (`<name>.building-<owner>-<id>`) in `parent` whose builder is gone. */
async function sweepStaleBuilds(parent: string): Promise<void> {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const builder = ownerInName(name, '\\.building-');
    if (!builder || ownerIsAlive(builder)) continue;
    const dir = path.join(parent, name);
    await removeStale(dir, stringArray(readJson(path.join(dir, 'programs.json'))), [path.join(dir, 'data')]);
  }
}

/**
 * Removes what runs and builds whose owner is gone left behind (the machine lost
 * power, the watchdog was killed too), ending any server still working there. Only
 * processes running a program dbproof started there are touched, so neither a PID
 * recycled by an unrelated process nor a user's shell in a run directory is signalled.
 */
export async function sweepStaleRuns(): Promise<void> {
  const runs = runsDir();
  if (existsSync(runs)) {
    for (const name of readdirSync(runs)) {
      const dir = path.join(runs, name);
      if (name.startsWith('.creating-')) {
        // Nothing is started before the rename: a dead creator left an empty directory.
        const creator = ownerInName(name, '\\.creating-');
        if (creator && !ownerIsAlive(creator)) rmSync(dir, { recursive: true, force: true });
      } else {
        await sweepRunDir(dir);
      }
    }
  }
  const cache = path.join(baseDir(), 'cache');
  await sweepStaleBuilds(cache);
  await sweepStaleBuilds(path.join(cache, 'seeded'));
}
