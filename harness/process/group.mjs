// Process-group helpers shared by the topology code and the watchdog.
// Plain JavaScript on purpose: the watchdog runs it with bare `node`, so that it
// starts in milliseconds and does not depend on a TypeScript loader being intact.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * PIDs of the live (non-zombie) processes whose process group is `pgid`.
 * Reads /proc: a zombie still answers kill(pid, 0), and on machines whose PID 1
 * does not reap orphans, zombies of a killed postmaster's backends would never go away.
 */
export function liveGroupMembers(pgid) {
  const members = [];
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return groupAnswers(pgid) ? [pgid] : [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(Number(entry));
  }
  return members;
}

function groupAnswers(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

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
  return { state: fields[0], pgrp: Number(fields[2]), startTime: Number(fields[19]) };
}

/** True when `pid` runs and is not a zombie. */
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

/** Sends `signal` to every process of the group; false when the group no longer exists. */
export function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (error.code === 'ESRCH') return false;
    throw error;
  }
}

/** Waits until no live process is left in the group, checking every `intervalMs`. */
export async function waitGroupGone(pgid, timeoutMs, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (liveGroupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Ends a process group: `gentle` first (SIGQUIT lets a postmaster remove its
 * shared memory), SIGKILL for whatever is still there after `graceMs`.
 */
export async function endGroup(pgid, gentle = 'SIGTERM', graceMs = 3000) {
  if (!signalGroup(pgid, gentle)) return;
  if (await waitGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, 5000);
}
