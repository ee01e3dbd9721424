import { spawn, spawnSync } from 'node:child_process';
import { UsageError } from '../../harness/errors.ts';
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
  options: { cwd: string; databaseUrl: string; urlVariables: string[]; timeoutMs: number },
): Promise<CommandOutcome> {
  const child = spawn('/bin/sh', ['-c', command], {
    cwd: options.cwd,
    env: migrationEnv(options.databaseUrl, options.urlVariables),
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

/**
 * The command's environment: the rehearsal's database in every variable the command may read
 * it from, and libpq's own PG* variables set to it too (a shell or CI job may have them
 * pointing at a real database: they must never reach the command), with application_name
 * in the URL and PGAPPNAME for the tools that read one or the other.
 */
export function migrationEnv(databaseUrl: string, urlVariables: string[]): NodeJS.ProcessEnv {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', MIGRATION_APP);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!/^PG[A-Z]+$/.test(name) && !urlVariables.includes(name)) env[name] = value;
  for (const name of urlVariables) env[name] = url.toString();
  return {
    ...env,
    PGHOST: url.hostname,
    PGPORT: url.port,
    PGUSER: decodeURIComponent(url.username),
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    PGAPPNAME: MIGRATION_APP,
  };
}

/** Words a shell runs itself: a command line starting with one is not checked on PATH. */
const SHELL_WORDS = new Set([
  'cd',
  'export',
  'set',
  'if',
  'for',
  'while',
  'case',
  '(',
  '{',
  'exec',
  '.',
  'source',
  'true',
  ':',
]);

/**
 * Refuses, before anything starts, a command whose program is not there: its first word
 * (after any `NAME=value` assignments) looked up as the shell would, from the config's folder.
 */
export function checkMigrationCommand(command: string, cwd: string): void {
  const words = command.trim().split(/\s+/);
  const program = words.find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word))?.replace(/^['"]|['"]$/g, '');
  if (!program || SHELL_WORDS.has(program)) return;
  const found = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', program], { cwd, stdio: 'ignore' });
  if (found.status !== 0)
    throw new UsageError(
      `invalid option suites.migration-rehearsal.command: ${program} is not a command here (not on PATH, nor a file in ${cwd}); give the command that runs your migrations, e.g. 'npm run migrate'`,
    );
}
