import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DbproofError } from '../../errors.ts';
import { SqlPgNode } from '../../topology/sql-node.ts';
import type { PgNode, PgRole, ServerLog } from '../../topology/types.ts';
import { endProcessesUnder, processesUnder, signalAll, waitNoneUnder } from '../../process/node-processes.mjs';
import type { Watchdog } from '../../process/watchdog.ts';
import {
  postgresProgram,
  spawnPostgres,
  waitForExit,
  waitUntilAccepting,
  type PostgresLaunch,
  type Settings,
} from './postgres-process.ts';
import { fileServerLog } from './server-log.ts';

const run = promisify(execFile);

export interface NativePgNodeOptions {
  name: string;
  role: PgRole;
  launch: PostgresLaunch;
  url: string;
  adminUrl: string;
  watchdog: Watchdog;
  /** The node this replica streams from, for lag; undefined on the primary. */
  upstream: () => PgNode | undefined;
}

/** A Postgres server run as local processes, all working in its data directory. */
export class NativePgNode extends SqlPgNode implements PgNode {
  readonly url: string;
  readonly port: number;
  readonly serverLog: ServerLog;
  #child: ChildProcess | undefined;
  readonly #options: NativePgNodeOptions;

  constructor(options: NativePgNodeOptions) {
    super(options.name, options.role, options.adminUrl, options.upstream);
    this.#options = options;
    this.url = options.url;
    this.port = options.launch.port;
    this.serverLog = fileServerLog(options.launch.logFile);
  }

  /** The running main process; undefined once killed or stopped. */
  get pid(): number | undefined {
    return this.#running() ? this.#child!.pid : undefined;
  }

  get dataDir(): string {
    return this.#options.launch.dataDir;
  }

  /** What this node's processes run: anything else working in the data directory is not ours to signal. */
  get #programs(): string[] {
    return [postgresProgram(this.#options.launch.bins)];
  }

  /** Settings (`-c name=value`) for every later start; a running node takes them at its next restart. */
  configure(settings: Settings): void {
    Object.assign(this.#options.launch.settings, settings);
  }

  get logFile(): string {
    return this.#options.launch.logFile;
  }

  /** Spawns the postmaster without waiting; `ready()` waits. Split so that a topology starts its nodes in parallel. */
  spawn(): void {
    if (this.#running()) throw new DbproofError(`${this.name} is already running (pid ${this.pid})`);
    this.#child = spawnPostgres(this.#options.launch);
    // SIGQUIT is Postgres' immediate shutdown: quick, and the postmaster still removes its shared memory.
    this.#options.watchdog.watchNode(this.dataDir, this.#child.pid!, 'SIGQUIT', this.#programs);
  }

  async ready(timeoutMs?: number): Promise<void> {
    await waitUntilAccepting(this.#child!, this.#options.launch, timeoutMs);
  }

  async start(): Promise<void> {
    this.spawn();
    await this.ready();
  }

  async kill(): Promise<void> {
    const pid = this.#requireRunning('kill');
    // The postmaster first, so that it forks nothing new; then every backend, as a host crash would.
    signalAll([pid], 'SIGKILL');
    await this.#killEverythingUnderDataDir();
    await waitForExit(this.#child!, 5000);
    await this.#removeOrphanedSharedMemory();
  }

  async stop(): Promise<void> {
    const pid = this.#requireRunning('stop');
    signalAll(processesUnder(this.dataDir, this.#programs), 'SIGCONT');
    // SIGINT is Postgres' "fast" shutdown: sessions are ended, a shutdown checkpoint is written.
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(this.#child!, 30_000)))
      await endProcessesUnder(this.dataDir, { programs: this.#programs, mainPid: pid, gentle: 'SIGQUIT' });
    await waitNoneUnder(this.dataDir, this.#programs, 5000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Freezes the postmaster first (it forks nothing more), then every backend, walreceiver and helper. */
  async pause(): Promise<void> {
    signalAll([this.#requireRunning('pause')], 'SIGSTOP');
    signalAll(processesUnder(this.dataDir, this.#programs), 'SIGSTOP');
  }

  async resume(): Promise<void> {
    this.#requireRunning('resume');
    signalAll(processesUnder(this.dataDir, this.#programs), 'SIGCONT');
  }

  /** Ends the node for good at topology teardown (quick, no checkpoint needed). */
  async teardown(): Promise<void> {
    // Also after kill(): a backend that outlived its postmaster must not outlive the run.
    await endProcessesUnder(this.dataDir, {
      programs: this.#programs,
      mainPid: this.#running() ? this.pid : undefined,
      gentle: 'SIGQUIT',
      graceMs: 5000,
    });
    if (this.#child) await waitForExit(this.#child, 5000);
    await this.#removeOrphanedSharedMemory();
  }

  #running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #requireRunning(operation: string): number {
    if (!this.#running())
      throw new DbproofError(`cannot ${operation} ${this.name}: it is not running (start() it first)`);
    return this.#child!.pid!;
  }

  async #killEverythingUnderDataDir(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      signalAll(processesUnder(this.dataDir, this.#programs), 'SIGKILL');
      if (await waitNoneUnder(this.dataDir, this.#programs, 1000)) return;
    }
  }

  /**
   * A SIGKILLed postmaster leaves its small System V segment behind (the interlock
   * Postgres uses against two postmasters on one directory). Its id is in line 7
   * of postmaster.pid; remove it, so that killing nodes leaks nothing.
   */
  async #removeOrphanedSharedMemory(): Promise<void> {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const shmId = readFileSync(pidFile, 'utf8').split('\n')[6]?.trim().split(/\s+/)[1];
    if (shmId && /^\d+$/.test(shmId)) await run('ipcrm', ['-m', shmId]).catch(() => {});
  }
}
