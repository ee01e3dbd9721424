import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';
import { withClient } from '../../pg/client.ts';
import type { Watchdog } from '../../process/watchdog.ts';
import {
  RecoveryFailed,
  type ArchivingOptions,
  type BackupTool,
  type BaseBackup,
  type RecoveryControl,
  type RestoredNode,
  type RestoreRequest,
} from '../../topology/recovery.ts';
import { pollUntil } from '../../wait.ts';
import { findPgBackRest, type PostgresBinaries } from './binaries.ts';
import type { RunAs } from './os-user.ts';
import { pgBackRestArchiveGet, pgBackRestArchivePush, setUpPgBackRest, type PgBackRestSetup } from './pgbackrest.ts';
import { freePort } from './ports.ts';
import { NativePgNode } from './postgres-node.ts';
import { logTail, socketConfig, type Settings } from './postgres-process.ts';
import { runTool, type ToolRun } from './tool-process.ts';

const run = promisify(execFile);
const BACKUP_TIMEOUT_MS = 30 * 60_000;
const RESTORE_TIMEOUT_MS = 30 * 60_000;

export interface NativeRecoveryOptions {
  bins: PostgresBinaries;
  runAs: RunAs | undefined;
  runDir: string;
  socketDir: string;
  logDir: string;
  watchdog: Watchdog;
  primary: NativePgNode;
  /** The settings every node of the topology was started with (a restored node takes them too). */
  settings: Settings;
}

/** The last lines of a tool's output, for a verdict's evidence. */
const tail = (result: ToolRun, lines = 6) =>
  result.output.split('\n').slice(-lines).join(' | ') || `exit code ${result.code}`;

/**
 * Why a restored node stopped, from its log: the server's FATAL and PANIC lines (without the
 * refusals dbproof's own connection attempts drew), else the log's last lines.
 */
function whyItStopped(logFile: string): string {
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8');
  } catch {
    return '(no log)';
  }
  const fatal = log
    .split('\n')
    .filter(
      (line) =>
        /\b(FATAL|PANIC):/.test(line) &&
        !/the database system is (starting up|in recovery mode|shutting down|not yet accepting)/.test(line),
    )
    .map((line) => line.replace(/^.*?\b(FATAL|PANIC):\s*/, '$1: '));
  return fatal.length ? [...new Set(fatal)].slice(-3).join(' | ') : logTail(logFile, 4).replace(/\n/g, ' | ');
}

/** What a verification tool said: passed (with its words, when it had any) or failed, with why. */
const verification = (tool: string, result: ToolRun) =>
  result.code === 0
    ? { ok: true, output: `${tool}: passed${result.output ? ` (${tail(result, 2)})` : ''}` }
    : { ok: false, output: `${tool} failed: ${tail(result)}` };

/**
 * Backup and restore on the native provider: the archive, the backups, pgBackRest's
 * repository and every restored node live in the run directory, so the watchdog removes
 * them (and ends the nodes) however dbproof ends.
 */
export class NativeRecovery implements RecoveryControl {
  /** Nodes restored so far: the topology stops them with the others. */
  readonly restored: NativePgNode[] = [];
  readonly #o: NativeRecoveryOptions;
  readonly #archiveDir: string;
  #archiving: ArchivingOptions | undefined;
  #pgbackrest: PgBackRestSetup | undefined;
  #backupDir: string | undefined;

  constructor(options: NativeRecoveryOptions) {
    this.#o = options;
    this.#archiveDir = path.join(options.runDir, 'archive');
  }

  #makeOwned(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (this.#o.runAs) chownSync(dir, this.#o.runAs.uid, this.#o.runAs.gid);
  }

  #tool(file: string, args: string[], timeoutMs: number): Promise<ToolRun> {
    return runTool(file, args, {
      runAs: this.#o.runAs,
      cwd: this.#o.runDir,
      watchdog: this.#o.watchdog,
      timeoutMs,
    });
  }

  #pgBackRest(): PgBackRestSetup {
    this.#pgbackrest ??= setUpPgBackRest({
      binary: findPgBackRest(),
      dir: path.join(this.#o.runDir, 'pgbackrest'),
      pgPath: this.#o.primary.dataDir,
      socketDir: this.#o.socketDir,
      port: this.#o.primary.port,
      runAs: this.#o.runAs,
    });
    return this.#pgbackrest;
  }

  async enableArchiving(options: ArchivingOptions): Promise<void> {
    this.#archiving = options;
    this.#makeOwned(this.#archiveDir);
    const archive = this.#archiveDir;
    const command =
      options.command ??
      (options.tool === 'pgbackrest'
        ? pgBackRestArchivePush(this.#pgBackRest())
        : `test ! -f '${archive}/%f' && cp %p '${archive}/%f'`);
    this.#o.primary.configure({
      archive_mode: options.enabled,
      archive_command: command,
      archive_timeout: `${options.timeoutS}s`,
    });
    await this.#o.primary.restart();
    if (options.tool === 'pgbackrest') {
      const setup = this.#pgBackRest();
      const created = await this.#tool(setup.binary, [...setup.base, 'stanza-create'], 120_000);
      if (created.code !== 0) throw new RecoveryFailed('backup', `pgbackrest stanza-create failed: ${tail(created)}`);
    }
  }

  async takeBackup({ tool, withWal }: { tool: BackupTool; withWal: boolean }): Promise<BaseBackup> {
    if (tool === 'pgbackrest') {
      const setup = this.#pgBackRest();
      const backup = await this.#tool(setup.binary, [...setup.base, '--type=full', 'backup'], BACKUP_TIMEOUT_MS);
      if (backup.code !== 0) throw new RecoveryFailed('backup', `pgbackrest backup failed: ${tail(backup)}`);
      const verify = await this.#tool(setup.binary, [...setup.base, 'verify'], BACKUP_TIMEOUT_MS);
      return {
        tool,
        withWal: true,
        durationMs: backup.durationMs,
        verification: verification('pgbackrest verify', verify),
      };
    }
    const dir = path.join(this.#o.runDir, 'backups', 'base');
    this.#makeOwned(path.dirname(dir));
    rmSync(dir, { recursive: true, force: true });
    const { bins, socketDir, primary } = this.#o;
    const backup = await this.#tool(
      path.join(bins.binDir, 'pg_basebackup'),
      ['-D', dir, '-h', socketDir, '-p', String(primary.port), '-U', 'dbproof', '-w'].concat([
        '-X',
        withWal ? 'stream' : 'none',
        '--checkpoint=fast',
        '--no-sync',
        '--label=dbproof-drill',
      ]),
      BACKUP_TIMEOUT_MS,
    );
    if (backup.code !== 0) throw new RecoveryFailed('backup', `pg_basebackup failed: ${tail(backup)}`);
    this.#backupDir = dir;
    // Without its WAL a backup cannot be replayed by pg_verifybackup: it checks the files only (-n).
    const verify = await this.#tool(
      path.join(bins.binDir, 'pg_verifybackup'),
      [...(withWal ? [] : ['-n']), dir],
      BACKUP_TIMEOUT_MS,
    );
    return {
      tool,
      withWal,
      durationMs: backup.durationMs,
      verification: verification(withWal ? 'pg_verifybackup' : 'pg_verifybackup -n (no WAL to check)', verify),
    };
  }

  async destroyPrimary(): Promise<void> {
    await this.#o.primary.kill();
    rmSync(this.#o.primary.dataDir, { recursive: true, force: true });
  }

  async restore(request: RestoreRequest): Promise<RestoredNode> {
    const started = performance.now();
    const name = `restored${this.restored.length + 1}`;
    const dataDir = path.join(this.#o.runDir, name);
    const { archiving, recovery } = this.#recoverySettings(request, dataDir);
    if (request.backup.tool === 'pgbackrest') {
      const setup = this.#pgBackRest();
      this.#makeOwned(dataDir);
      // Recovery settings are given on the node's command line below; --type=preserve would keep none.
      const restored = await this.#tool(
        setup.binary,
        [...setup.base, `--pg1-path=${dataDir}`, 'restore'],
        RESTORE_TIMEOUT_MS,
      );
      if (restored.code !== 0) throw new RecoveryFailed('restore', `pgbackrest restore failed: ${tail(restored)}`);
    } else {
      if (!this.#backupDir) throw new RecoveryFailed('restore', 'no base backup was taken');
      // `cp -a` keeps the postgres user's ownership and the modes.
      await run('cp', ['-a', this.#backupDir, dataDir]);
    }
    if (archiving) this.#writeOwned(path.join(dataDir, 'recovery.signal'));
    const port = await freePort();
    const primary = this.#o.primary;
    const node = new NativePgNode({
      name,
      role: 'primary',
      launch: {
        bins: this.#o.bins,
        runAs: this.#o.runAs,
        dataDir,
        port,
        socketDir: this.#o.socketDir,
        logFile: path.join(this.#o.logDir, `${name}.log`),
        settings: {
          ...this.#o.settings,
          cluster_name: name,
          // A restored node archives nothing (its new timeline would change what a later restore replays)
          // and waits for no standby.
          archive_mode: false,
          synchronous_standby_names: '',
          ...recovery,
        },
      },
      url: Object.assign(new URL(primary.url), { port: String(port) }).toString(),
      adminUrl: Object.assign(new URL(primary.adminUrl), { port: String(port) }).toString(),
      watchdog: this.#o.watchdog,
      upstream: () => undefined,
    });
    this.restored.push(node);
    try {
      await node.start();
    } catch (error) {
      if (!(error instanceof InfrastructureError)) throw error;
      throw new RecoveryFailed('restore', `${name} did not start: ${whyItStopped(node.logFile)}`);
    }
    await this.#waitForPromotion(node, request.timeoutMs ?? RESTORE_TIMEOUT_MS);
    return { node, durationMs: performance.now() - started };
  }

  /** `restore_command` from the run's archive and the target; none at all when nothing was archived. */
  #recoverySettings(request: RestoreRequest, dataDir: string): { archiving: boolean; recovery: Settings } {
    if (!this.#archiving?.enabled) return { archiving: false, recovery: {} };
    const restoreCommand =
      request.backup.tool === 'pgbackrest'
        ? pgBackRestArchiveGet(this.#pgBackRest(), dataDir)
        : `cp '${this.#archiveDir}/%f' %p`;
    const recovery: Settings = { restore_command: restoreCommand, recovery_target_action: 'promote' };
    // Postgres reads `2026-12-03 13:05:50.929+00`, not the `T…Z` of toISOString().
    if (request.target !== 'latest')
      recovery.recovery_target_time = `${request.target.toISOString().replace('T', ' ').replace('Z', '')}+00`;
    return { archiving: true, recovery };
  }

  #writeOwned(file: string): void {
    writeFileSync(file, '');
    if (this.#o.runAs) chownSync(file, this.#o.runAs.uid, this.#o.runAs.gid);
  }

  /** Recovery is over when the node accepts writes; a node that exits meanwhile failed to recover. */
  async #waitForPromotion(node: NativePgNode, timeoutMs: number): Promise<void> {
    const promoted = await pollUntil(
      async () => {
        if (node.pid === undefined)
          throw new RecoveryFailed('restore', `${node.name} exited during recovery: ${whyItStopped(node.logFile)}`);
        try {
          return await withClient(socketConfig(this.#o.socketDir, node.port), async (client) => {
            const { rows } = await client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
            return !rows[0]!.recovering;
          });
        } catch {
          return false; // shutting down or between restarts: asked again
        }
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (!promoted)
      throw new RecoveryFailed(
        'restore',
        `${node.name} was still recovering after ${timeoutMs} ms: ${logTail(node.logFile, 4).replace(/\n/g, ' | ')}`,
      );
  }
}
