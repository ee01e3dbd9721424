import { spawn } from 'node:child_process';
import type { Watchdog } from '../../process/watchdog.ts';
import type { RunAs } from './os-user.ts';

export interface ToolRun {
  code: number | null;
  /** stdout and stderr, interleaved, as the tool wrote them (its last 8 KB). */
  output: string;
  durationMs: number;
}

const KEEP = 8192;

/**
 * Runs a backup tool (pg_basebackup, pg_verifybackup, pgbackrest) as the Postgres OS user,
 * in a process group of its own registered with the watchdog: a tool still running when
 * dbproof dies is ended with it. Resolves with its exit code and output; never throws for
 * a failing tool (a failed backup is a finding, not dbproof's error).
 */
export function runTool(
  file: string,
  args: string[],
  options: { runAs: RunAs | undefined; cwd: string; watchdog: Watchdog; timeoutMs: number },
): Promise<ToolRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.runAs?.uid,
      gid: options.runAs?.gid,
      cwd: options.cwd,
      env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC', PGCONNECT_TIMEOUT: '10' },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-KEEP);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    if (child.pid) options.watchdog.watchProcessGroup(child.pid);
    const timer = setTimeout(() => {
      output += `\n(dbproof ended it after ${options.timeoutMs} ms)`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    let ended = false;
    const done = (code: number | null) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      if (child.pid) options.watchdog.forgetProcessGroup(child.pid);
      resolve({ code, output: output.trim(), durationMs: performance.now() - started });
    };
    child.on('error', (error) => {
      output += `\n${error.message}`;
      done(null);
    });
    child.on('close', (code) => done(code));
  });
}
