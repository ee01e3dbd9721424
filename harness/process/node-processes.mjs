// Finding and ending the processes of a node. Plain JavaScript on purpose: the
// watchdog runs it with bare `node`, so that it starts in milliseconds and does not
// depend on a TypeScript loader being intact.
//
// A node's processes are found by their working directory, not by process group:
// the postmaster calls setsid() in every child it forks (so one backend can be
// signalled with its subprocesses), so a backend is in no group of ours, and when a
// postmaster is SIGKILLed its backends are re-parented to PID 1, out of its tree.
// What they keep is the working directory they inherited: the data directory
// (redis-server likewise works in its own directory), and the program they run (a
// backend is a fork of the postmaster: /proc/<pid>/exe is still the postgres binary).
// A working directory alone proves nothing: a user's shell may be in a log directory,
// so only processes running a program dbproof started there, or descending from one,
// are ever signalled.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Fields of /proc/<pid>/stat we need, or undefined when the process is gone. */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

/**
 * True when `pid` runs and is not a zombie. (On machines whose PID 1 does not reap
 * orphans, zombies of killed backends stay forever; they hold nothing but a PID.)
 */
export function isAlive(pid) {
  const stat = readStat(pid);
  if (stat) return stat.state !== 'Z' && stat.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** True while `pid` is still the process that had `startTime`: a reused PID is another process. */
export function sameProcess({ pid, startTime }) {
  return isAlive(pid) && readStat(pid)?.startTime === startTime;
}

/** The executable `pid` runs, or undefined when it is gone or not ours to read. */
export function programOf(pid) {
  try {
    // An executable replaced since it started (a package upgrade) reads as "<path> (deleted)".
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/** Symlinks resolved, as /proc/<pid>/exe shows them (Debian's redis-server is a link to redis-check-rdb). */
function resolvePrograms(programs) {
  if (!Array.isArray(programs)) throw new TypeError('programs: the executables dbproof started, as an array');
  return new Set(
    programs.map((program) => {
      try {
        return realpathSync(program);
      } catch {
        return program;
      }
    }),
  );
}

/** True when `pid` or one of its ancestors runs one of `programs` (an archive_command's shell descends from a backend). */
function runsOrDescendsFrom(pid, programs) {
  for (let current = pid, depth = 0; current > 1 && depth < 64; depth++) {
    const program = programOf(current);
    if (program !== undefined && programs.has(program)) return true;
    const stat = readStat(current);
    if (!stat) return false;
    current = stat.ppid;
  }
  return false;
}

/**
 * PIDs of the live processes whose working directory is `dir` or inside it and that
 * run one of `programs` (absolute paths of the executables dbproof started there) or
 * descend from one that does.
 */
export function processesUnder(dir, programs) {
  const root = path.resolve(dir);
  const wanted = resolvePrograms(programs);
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd;
    try {
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue; // gone, a zombie, or not ours to read
    }
    const pid = Number(entry);
    if ((cwd === root || cwd.startsWith(`${root}/`)) && isAlive(pid) && runsOrDescendsFrom(pid, wanted))
      found.push(pid);
  }
  return found;
}

/** Sends `signal` to each PID that still exists; returns how many it reached. */
export function signalAll(pids, signal) {
  let reached = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      reached++;
    } catch {
      // already gone
    }
  }
  return reached;
}

/** Waits until no live process of `programs` works under `dir`; true when none is left. */
export async function waitNoneUnder(dir, programs, timeoutMs, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processesUnder(dir, programs).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/**
 * Ends every process of a node (those of `programs` working under `dir`): `gentle` to
 * its main process first (SIGQUIT lets a postmaster end its backends and remove its
 * shared memory), after `graceMs` SIGKILL to whatever is still there. Frozen processes
 * are thawed first: a stopped process cannot act on a gentle signal.
 */
export async function endProcessesUnder(dir, { programs, mainPid, gentle = 'SIGTERM', graceMs = 3000 }) {
  const pids = processesUnder(dir, programs);
  if (pids.length === 0) return;
  signalAll(pids, 'SIGCONT');
  if (mainPid !== undefined && pids.includes(mainPid)) {
    signalAll([mainPid], gentle);
    if (await waitNoneUnder(dir, programs, graceMs)) return;
  }
  for (let round = 0; round < 5; round++) {
    signalAll(processesUnder(dir, programs), 'SIGKILL');
    if (await waitNoneUnder(dir, programs, 1000)) return;
  }
}
