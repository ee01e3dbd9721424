import { spawn } from 'node:child_process';
import { Watchdog } from '../../harness/process/watchdog.ts';
import { redact } from '../../harness/redact.ts';
import { MIGRATION_APP } from './activity-sampler.ts';

/** How a team's migration command ended: its exit code (null: killed at the time-out) and its last lines of output. */
export interface CommandOutcome {
  code: number | null;
  timedOut: boolean;
  output: string;
}

const OUTPUT_LINES = 20;

/**
 * Runs the team's own migration command (`npm run migrate`, `knex migrate:latest`, `prisma
 * migrate deploy`, `alembic upgrade head`…) through `sh -c`, in a process group of its own
 * that the watchdog ends if dbproof dies, with the topology's primary in DATABASE_URL and
 * PGAPPNAME set so that its sessions are told from the app's (libpq, node-postgres, psycopg
 * and the tools built on them read it). Ended (SIGTERM, then SIGKILL) at `timeoutMs`.
 */
export async function runMigrationCommand(
  command: string,
  options: { cwd: string; databaseUrl: string; timeoutMs: number },
): Promise<CommandOutcome> {
  const child = spawn('/bin/sh', ['-c', command], {
    cwd: options.cwd,
    env: { ...process.env, DATABASE_URL: options.databaseUrl, PGAPPNAME: MIGRATION_APP },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watchdog = Watchdog.start();
  if (child.pid) watchdog.watchProcessGroup(child.pid);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 5000).unref();
  }, options.timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exit, signal) => resolve(exit ?? (signal ? null : 0)));
    });
    return { code: timedOut ? null : code, timedOut, output: redact(lines.join('\n')) };
  } finally {
    clearTimeout(timer);
    // Whatever the command left running in its group goes with it.
    killGroup('SIGKILL');
    if (child.pid) watchdog.forgetProcessGroup(child.pid);
    await watchdog.close();
  }
}
