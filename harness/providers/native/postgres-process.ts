import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { InfrastructureError } from '../../errors.ts';
import { pollUntil } from '../../wait.ts';
import type { PostgresBinaries } from './binaries.ts';
import type { RunAs } from './os-user.ts';

export type Settings = Record<string, string | number | boolean>;

export interface PostgresLaunch {
  bins: PostgresBinaries;
  runAs: RunAs | undefined;
  dataDir: string;
  port: number;
  /** Directory of the Unix socket (peer authentication for dbproof's bootstrap and for replication). */
  socketDir: string;
  settings: Settings;
  logFile: string;
}

/** `-c name=value` pairs: settings on the command line win over any file, so a copied data directory cannot surprise us. */
function settingArgs(settings: Settings): string[] {
  return Object.entries(settings).flatMap(([name, value]) => [
    '-c',
    `${name}=${typeof value === 'boolean' ? (value ? 'on' : 'off') : value}`,
  ]);
}

/** The executable every process of a Postgres server runs (backends are forks of the postmaster). */
export function postgresProgram(bins: PostgresBinaries): string {
  return path.join(bins.binDir, 'postgres');
}

/**
 * Starts `postgres` in a session of its own (detached), so that its PID is also the
 * process group of the postmaster and every backend: pause() freezes the whole
 * "host" with one signal, and a Ctrl-C to our terminal does not reach it.
 */
export function spawnPostgres(launch: PostgresLaunch): ChildProcess {
  const log = openSync(launch.logFile, 'a');
  try {
    const child = spawn(
      postgresProgram(launch.bins),
      [
        '-D',
        launch.dataDir,
        '-p',
        String(launch.port),
        '-c',
        `unix_socket_directories=${launch.socketDir}`,
        ...settingArgs(launch.settings),
      ],
      {
        detached: true,
        stdio: ['ignore', log, log],
        uid: launch.runAs?.uid,
        gid: launch.runAs?.gid,
        cwd: launch.dataDir,
        env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' },
      },
    );
    child.on('error', () => {});
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

/** The last lines of a node's log, for an error message that says why it did not start. */
export function logTail(logFile: string, lines = 8): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Connection settings for dbproof's own peer-authenticated connection over the Unix socket. */
export function socketConfig(socketDir: string, port: number, database = 'postgres'): pg.ClientConfig {
  return { host: socketDir, port, user: 'dbproof', database };
}

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', '57P03', 'ECONNRESET']);

/**
 * Resolves once the server accepts a connection (read-only for a standby); fails
 * early, with the log's last lines, when the process exits instead.
 */
export async function waitUntilAccepting(
  child: ChildProcess,
  launch: PostgresLaunch,
  timeoutMs = 30_000,
): Promise<void> {
  let exited = child.exitCode !== null || child.signalCode !== null;
  const onExit = () => (exited = true);
  child.once('exit', onExit);
  try {
    const accepting = await pollUntil(
      async () => {
        if (exited) {
          throw new InfrastructureError(
            `postgres (${path.basename(launch.dataDir)}) exited during start-up:\n${logTail(launch.logFile)}`,
          );
        }
        const client = new pg.Client({ ...socketConfig(launch.socketDir, launch.port), connectionTimeoutMillis: 2000 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.end();
          return true;
        } catch (error) {
          await client.end().catch(() => {});
          const code = (error as { code?: string }).code ?? '';
          // node-postgres's own connect time-out ("timeout expired") is a busy machine, not a
          // refusal: the server may be forking the backend; the overall deadline still holds.
          if (!RETRYABLE.has(code) && !/starting up|not yet accepting|timeout expired/.test(String(error))) {
            throw new InfrastructureError(
              `postgres (${path.basename(launch.dataDir)}) refused dbproof's connection: ${String(error)}`,
              error,
            );
          }
          return false;
        }
      },
      { timeoutMs, intervalMs: 10 },
    );
    if (!accepting) {
      throw new InfrastructureError(
        `postgres (${path.basename(launch.dataDir)}) was not ready after ${timeoutMs} ms:\n${logTail(launch.logFile)}`,
      );
    }
  } finally {
    child.off('exit', onExit);
  }
}

/** Resolves when the child has exited (immediately if it already has). */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
