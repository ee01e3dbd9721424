// The suites' files share one topology and inject faults into it (kill a replica, freeze
// Redis, kill the primary), so they take turns: one file at a time holds the turn, from its
// first hook to its last. They take turns beside dbproof's own test files rather than after
// them: `fileParallelism: false` puts a project's files in a group vitest runs after every
// other group, with one core idle for the 5 minutes the suites take (issue 14).
//
// The turn is a directory made with mkdir (atomic), holding its owner's pid: a holder that
// died without giving it back (a crashed worker) is seen as gone and its turn taken over.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TopologyHandle } from '../../harness/topology/control/protocol.ts';

/** The turn's directory for the run whose topology is `handle`: one per test run. */
export function turnDir(handle: TopologyHandle): string {
  const key = createHash('sha256').update(handle.control.url).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `dbproof-suites-turn-${key}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for the turn and takes it. */
export async function takeTurn(dir: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
    } catch {
      // made a moment ago, its pid not written yet: wait
    }
    if (holder > 0 && !alive(holder)) rmSync(dir, { recursive: true, force: true });
    await sleep(100);
  }
}

/** Gives the turn back (only one this process holds). */
export function giveTurn(dir: string): void {
  try {
    if (Number(readFileSync(path.join(dir, 'pid'), 'utf8')) !== process.pid) return;
  } catch {
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}
