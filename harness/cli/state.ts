import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError, zodIssue } from '../errors.ts';
import { readStat, sameProcess, type ProcessIdentity } from '../process/node-processes.mjs';
import { providerNameSchema } from '../topology/spec.ts';
import type { TopologyDescription } from '../topology/types.ts';

/** What `up` leaves for `status` and `down`: who owns the topology and how to reach it. */
export interface TopologyState {
  version: 2;
  ownerPid: number;
  ownerStartTime: number;
  detached: boolean;
  startedAt: string;
  /** Every process the topology started, with its start time: a PID reused since is not ours. */
  processes: ProcessIdentity[];
  topology: TopologyDescription;
}

const identitySchema = z.object({ pid: z.number().int().positive(), startTime: z.number().int().nonnegative() });

// The file is in the user's project, where anything may edit it: `down` acts on nothing it does not describe exactly.
const stateSchema: z.ZodType<TopologyState> = z.object({
  version: z.literal(2),
  ownerPid: z.number().int().positive(),
  ownerStartTime: z.number().int().nonnegative(),
  detached: z.boolean(),
  startedAt: z.string(),
  processes: z.array(identitySchema),
  topology: z.object({
    provider: providerNameSchema,
    primary: z.string(),
    replicas: z.array(z.string()),
    redis: z.string().nullable(),
    admin: z.string(),
    pids: z.array(z.number().int().positive()),
    nodes: z.array(
      z.object({
        name: z.string(),
        kind: z.enum(['postgres', 'redis']),
        port: z.number().int(),
        url: z.string(),
        pidFile: z
          .string()
          .refine(
            (file) => path.isAbsolute(file) && ['postmaster.pid', 'redis.pid'].includes(path.basename(file)),
            'an absolute path to a postmaster.pid or redis.pid',
          )
          .optional(),
        container: z
          .string()
          .regex(/^[0-9a-f]{12,64}$/, 'a Docker container id')
          .optional(),
      }),
    ),
  }),
});

export function stateDir(): string {
  return process.env.DBPROOF_STATE_DIR ?? path.resolve('.dbproof');
}

export function stateFile(): string {
  return path.join(stateDir(), 'state.json');
}

function lockFile(): string {
  return path.join(stateDir(), 'up.lock');
}

/** The state directory, private to this user and ignored by git: the state file holds passwords. */
export function ensureStateDir(): string {
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ignore = path.join(dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
  return dir;
}

/** Written atomically (temporary file + rename) and readable by this user only: it holds passwords. */
export function writeState(state: TopologyState): void {
  ensureStateDir();
  const temporary = `${stateFile()}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, stateFile());
}

/** The state file, validated; undefined when there is none. A file this dbproof did not write is refused, not guessed at. */
export function readState(): TopologyState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile(), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${stateFile()}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(
      `${stateFile()} is not a state file this dbproof wrote (not JSON); if no topology is up from here, remove it`,
    );
  }
  const result = stateSchema.safeParse(json);
  if (!result.success)
    throw new UsageError(
      `${stateFile()} is not a state file this dbproof wrote (${zodIssue(result.error, 'the file')}); if no topology is up from here, remove it`,
    );
  return result.data;
}

/** Removes the state file if (and only if) it still describes `ownerPid`'s topology. */
export function clearState(ownerPid: number): void {
  try {
    if (readState()?.ownerPid === ownerPid) rmSync(stateFile(), { force: true });
  } catch {
    // Not a file we wrote: not ours to remove.
  }
}

/**
 * True when `pid` runs dbproof's `up` or its background keeper: the only processes
 * that own a topology, so the only ones `down` may ask to stop one.
 */
function runsDbproofUp(pid: number): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const bin = args.findIndex((arg) => /^dbproof(\.js)?$/.test(path.basename(arg)));
  return bin > 0 && ['up', '__keep'].includes(args[bin + 1] ?? '');
}

export function ownerAlive(state: TopologyState): boolean {
  return sameProcess({ pid: state.ownerPid, startTime: state.ownerStartTime }) && runsDbproofUp(state.ownerPid);
}

/** This process, as the state and the lock record it. */
export function thisProcess(): ProcessIdentity {
  return { pid: process.pid, startTime: readStat(process.pid)?.startTime ?? 0 };
}

function readLock(file: string): ProcessIdentity | undefined {
  try {
    const parsed = identitySchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The live `up` that holds the state directory's lock (it may still be starting its topology), if any. */
export function lockHolder(): ProcessIdentity | undefined {
  const holder = readLock(lockFile());
  return holder && sameProcess(holder) && runsDbproofUp(holder.pid) ? holder : undefined;
}

export function alreadyUp(owner: ProcessIdentity): UsageError {
  let up = false;
  try {
    up = readState()?.ownerPid === owner.pid;
  } catch {
    // no readable state: it is still starting
  }
  return new UsageError(
    `a topology is already ${up ? 'up' : 'starting'} here (owner pid ${owner.pid}, state in ${stateFile()}); stop it with \`dbproof down\` or set DBPROOF_STATE_DIR to use another`,
  );
}

/**
 * Takes the state directory's lock for this process before it starts a topology: two
 * `up` started at once would both find no state file, and one topology would run
 * unseen by `status` and `down`. The lock is a file made complete under a temporary
 * name and linked into place (link, like open 'wx', fails when the name exists), so a
 * reader never sees it half-written. A lock whose holder is gone is taken over.
 * Returns the release.
 */
export function takeUpLock(): () => void {
  ensureStateDir();
  const me = thisProcess();
  const temporary = `${lockFile()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, JSON.stringify(me), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(temporary, lockFile());
        return () => {
          const holder = readLock(lockFile());
          if (holder?.pid === me.pid && holder.startTime === me.startTime) rmSync(lockFile(), { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = lockHolder();
      if (holder) throw alreadyUp(holder);
      breakStaleLock();
    }
    throw new UsageError(`could not take the lock ${lockFile()}: other \`dbproof up\` keep taking it; try again`);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Removes a lock whose holder is gone. It is moved aside first and checked there: if a
 * live `up` took the lock meanwhile, it is put back.
 */
function breakStaleLock(): void {
  const aside = `${lockFile()}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockFile(), aside);
  } catch {
    return; // someone else removed it
  }
  const holder = readLock(aside);
  if (holder && sameProcess(holder) && runsDbproofUp(holder.pid)) {
    try {
      linkSync(aside, lockFile());
    } catch {
      // A third `up` took the lock in between: it holds it now.
    }
  }
  rmSync(aside, { force: true });
}
