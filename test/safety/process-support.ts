import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';
import { isAlive, readStat } from '../../harness/process/node-processes.mjs';

const bystanders: ChildProcess[] = [];
// Imported by a test file, this registers a file-level hook: every bystander it started is ended.
afterAll(() => {
  for (const child of bystanders.splice(0)) child.kill('SIGKILL');
});

/**
 * A harmless process of the test's own (`sleep`), working in `cwd`: stands for a user's
 * shell in a run directory, or for an unrelated process whose PID a forged file names.
 * Ended after the test file.
 */
export function startBystander(cwd: string): { pid: number; startTime: number; alive: () => boolean } {
  const child = spawn('sleep', ['600'], { cwd, stdio: 'ignore', detached: true });
  child.unref();
  bystanders.push(child);
  const pid = child.pid!;
  return { pid, startTime: readStat(pid)!.startTime, alive: () => isAlive(pid) && readStat(pid)?.state !== 'T' };
}

/** A PID no process has right now (one that just exited). */
export async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}
