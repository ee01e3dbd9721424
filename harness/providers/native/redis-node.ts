import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DbproofError, InfrastructureError } from '../../errors.ts';
import type { RedisNode } from '../../topology/types.ts';
import { pollUntil } from '../../wait.ts';
import { endProcessesUnder, signalAll, waitNoneUnder } from '../../process/node-processes.mjs';
import type { Watchdog } from '../../process/watchdog.ts';
import { logTail, waitForExit } from './postgres-process.ts';

export interface NativeRedisOptions {
  redisServer: string;
  dir: string;
  port: number;
  password: string;
  watchdog: Watchdog;
}

export function redisUrl(port: number, password: string): string {
  const url = new URL('redis://127.0.0.1');
  url.port = String(port);
  url.password = password;
  return url.toString();
}

/** Answers PING with the password, or throws. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/** A redis-server run as a local process, configured by a file only it and we can read (the password is not on its command line). */
export class NativeRedisNode implements RedisNode {
  readonly name = 'redis' as const;
  readonly url: string;
  readonly port: number;
  #child: ChildProcess | undefined;
  readonly #options: NativeRedisOptions;

  constructor(options: NativeRedisOptions) {
    this.#options = options;
    this.port = options.port;
    this.url = redisUrl(options.port, options.password);
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    writeFileSync(
      this.configFile,
      [
        'bind 127.0.0.1',
        `port ${options.port}`,
        `requirepass "${options.password}"`,
        'protected-mode yes',
        'save ""',
        'appendonly no',
        `dir "${options.dir}"`,
        `pidfile "${this.pidFile}"`,
        'daemonize no',
        'logfile ""',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }

  get configFile(): string {
    return path.join(this.#options.dir, 'redis.conf');
  }

  get pidFile(): string {
    return path.join(this.#options.dir, 'redis.pid');
  }

  get logFile(): string {
    return path.join(this.#options.dir, 'redis.log');
  }

  /** The running main process; undefined once killed or stopped. */
  get pid(): number | undefined {
    return this.#running() ? this.#child!.pid : undefined;
  }

  spawn(): void {
    if (this.#running()) throw new DbproofError(`redis is already running (pid ${this.pid})`);
    const log = openSync(this.logFile, 'a');
    try {
      this.#child = spawn(this.#options.redisServer, [this.configFile], {
        detached: true,
        stdio: ['ignore', log, log],
        cwd: this.#options.dir,
      });
    } finally {
      closeSync(log);
    }
    this.#child.on('error', () => {});
    this.#child.unref();
    this.#options.watchdog.watchNode(this.#options.dir, this.#child.pid!, 'SIGTERM', [this.#options.redisServer]);
  }

  async ready(timeoutMs = 15_000): Promise<void> {
    let lastError: unknown;
    const answered = await pollUntil(
      async () => {
        if (!this.#running())
          throw new InfrastructureError(`redis-server exited during start-up:\n${logTail(this.logFile)}`);
        try {
          await pingRedis(this.url, 500);
          return true;
        } catch (error) {
          lastError = error;
          return false;
        }
      },
      { timeoutMs, intervalMs: 10 },
    );
    if (!answered)
      throw new InfrastructureError(`redis-server was not ready after ${timeoutMs} ms: ${String(lastError)}`);
  }

  async start(): Promise<void> {
    this.spawn();
    await this.ready();
  }

  async kill(): Promise<void> {
    signalAll([this.#requireRunning('kill')], 'SIGKILL');
    await this.#exited();
  }

  async stop(): Promise<void> {
    await endProcessesUnder(this.#options.dir, {
      programs: [this.#options.redisServer],
      mainPid: this.#requireRunning('stop'),
      gentle: 'SIGTERM',
      graceMs: 10_000,
    });
    await this.#exited();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async pause(): Promise<void> {
    signalAll([this.#requireRunning('pause')], 'SIGSTOP');
  }

  async resume(): Promise<void> {
    signalAll([this.#requireRunning('resume')], 'SIGCONT');
  }

  async teardown(): Promise<void> {
    await endProcessesUnder(this.#options.dir, {
      programs: [this.#options.redisServer],
      mainPid: this.#running() ? this.pid : undefined,
      gentle: 'SIGTERM',
      graceMs: 5000,
    });
    if (this.#child) await waitForExit(this.#child, 5000);
  }

  #running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #requireRunning(operation: string): number {
    if (!this.#running()) throw new DbproofError(`cannot ${operation} redis: it is not running (start() it first)`);
    return this.#child!.pid!;
  }

  async #exited(): Promise<void> {
    await waitForExit(this.#child!, 5000);
    await waitNoneUnder(this.#options.dir, [this.#options.redisServer], 5000);
  }
}
