import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { queryRows } from '../../pg/client.ts';
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
import { findPostgresBinaries } from '../native/binaries.ts';
import {
  pgBackRestArchiveGet,
  pgBackRestArchivePush,
  pgBackRestConfigText,
  type PgBackRestSetup,
  STANZA,
} from '../native/pgbackrest.ts';
import { freePort } from '../native/ports.ts';
import { runTool, type ToolRun } from '../native/tool-process.ts';
import { DockerControl } from './docker-node.ts';
import { LoopbackContainer } from './loopback-container.ts';
import { ContainerPgNode } from './nodes.ts';

/** Where the archive directory is mounted in the primary and in a restored node. */
export const ARCHIVE_MOUNT = '/var/lib/dbproof/archive';
const BACKUP_MOUNT = '/dbproof/backup';
/** pgBackRest's repository, logs and locks: in the archive's mount, so a restored node reads the repository the primary wrote. */
const PGBACKREST_MOUNT = `${ARCHIVE_MOUNT}/pgbackrest`;
/** A restored node's data directory (node.sh `restore`). */
const RESTORED_DATA = '/var/lib/dbproof/data';
/** node.sh's socket directory: pgBackRest reaches the primary there as dbproof, by peer authentication. */
const NODE_SOCKET_DIR = '/run/dbproof';
/** pgBackRest in the container, `--config` and `--stanza` before every command. */
const PGBACKREST: PgBackRestSetup = {
  binary: 'pgbackrest',
  config: `${PGBACKREST_MOUNT}/pgbackrest.conf`,
  base: [`--config=${PGBACKREST_MOUNT}/pgbackrest.conf`, `--stanza=${STANZA}`],
};
const BACKUP_TIMEOUT_MS = 30 * 60_000;
const RESTORE_TIMEOUT_MS = 30 * 60_000;
const RESTART_TIMEOUT_MS = 10 * 60_000;

export interface ContainersRecoveryOptions {
  primary: ContainerPgNode;
  image: string;
  network: StartedNetwork;
  /** The topology's label: a restored container carries it, so the watchdog finds it even while it is created. */
  labels: Record<string, string>;
  watchdog: Watchdog;
  /** The topology's containers: a restored one joins them, and goes when the topology stops. */
  containers: StartedTestContainer[];
  /** The run's directory on the host (registered with the watchdog): the archive (mounted in the primary) and the backup. */
  dir: string;
  archiveDir: string;
  nodeScript: string;
  replicationPassword: string;
  /** The primary's `-c` arguments: a restored node starts with the same settings. */
  settingArgs: string[];
  /** The primary's URLs, whose port a restored node's replaces. */
  url: string;
  adminUrl: string;
}

const tail = (result: ToolRun, lines = 6) =>
  result.output.split('\n').slice(-lines).join(' | ') || `exit code ${result.code}`;

const withPort = (url: string, port: number) => Object.assign(new URL(url), { port: String(port) }).toString();

/**
 * Backup and restore on the containers provider. The archive is a directory of the run's
 * own on the host, bind-mounted into the primary from its start (a container's mounts
 * cannot change later); the disaster removes the primary's container and with it its data
 * directory; a restore is a fresh container from the same image.
 * - pg_basebackup: the base backup is taken and verified from the host over the primary's
 *   published 127.0.0.1 port; a restored container copies it in and replays the archive
 *   (node.sh `restore`).
 * - pgBackRest, where the image has it (the local image does): it runs inside the containers:
 *   archive-push from the primary's archive_command, stanza, backup and verify by `docker
 *   exec` as postgres, its repository in the archive's mount; a restored container runs
 *   `pgbackrest restore` before its first start and archive-get after. The host needs none.
 */
export class ContainersRecovery implements RecoveryControl {
  readonly #o: ContainersRecoveryOptions;
  readonly #backupDir: string;
  #archiving: ArchivingOptions | undefined;
  #backedUp = false;
  #restored = 0;

  constructor(options: ContainersRecoveryOptions) {
    this.#o = options;
    this.#backupDir = path.join(options.dir, 'base');
  }

  #tool(name: string, args: string[]): Promise<ToolRun> {
    const { binDir } = findPostgresBinaries();
    return runTool(path.join(binDir, name), args, {
      runAs: undefined,
      cwd: this.#o.dir,
      watchdog: this.#o.watchdog,
      timeoutMs: BACKUP_TIMEOUT_MS,
    });
  }

  /** The primary's running container, for `docker exec`. */
  #primaryContainer(): StartedTestContainer {
    const id = this.#o.primary.docker.containerId;
    const container = this.#o.containers.find((c) => c.getId() === id);
    if (!container) throw new RecoveryFailed('backup', 'the primary container is gone');
    return container;
  }

  /** A pgBackRest command in the primary's container, as postgres. */
  async #pgBackRest(args: string[]): Promise<{ code: number; output: string; durationMs: number }> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    // Bounded as the host's tools are: a stuck backup is the drill's finding, not a hang.
    const timedOut = new Promise<{ exitCode: number; output: string }>((resolve) => {
      timer = setTimeout(
        () => resolve({ exitCode: -1, output: `no answer after ${BACKUP_TIMEOUT_MS / 60_000} min` }),
        BACKUP_TIMEOUT_MS,
      );
    });
    try {
      const { exitCode, output } = await Promise.race([
        this.#primaryContainer().exec([PGBACKREST.binary, ...PGBACKREST.base, ...args], { user: 'postgres' }),
        timedOut,
      ]);
      return { code: exitCode, output, durationMs: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  async missingTool(tool: BackupTool): Promise<string | undefined> {
    if (tool !== 'pgbackrest') return undefined;
    const { exitCode } = await this.#primaryContainer().exec(['sh', '-c', 'command -v pgbackrest']);
    return exitCode === 0
      ? undefined
      : `the image ${this.#o.image} has no pgbackrest: build the local one (scripts/build-local-images.sh, which installs it), use an image that has it, or --tool pg_basebackup`;
  }

  async enableArchiving(options: ArchivingOptions): Promise<void> {
    this.#archiving = options;
    if (options.tool === 'pgbackrest') await this.#setUpPgBackRest();
    const command =
      options.command ??
      (options.tool === 'pgbackrest'
        ? pgBackRestArchivePush(PGBACKREST)
        : `test ! -f '${ARCHIVE_MOUNT}/%f' && cp %p '${ARCHIVE_MOUNT}/%f'`);
    // The node's command line sets none of these: ALTER SYSTEM holds across the restart.
    const settings: [string, string][] = [
      ['archive_mode', options.enabled ? 'on' : 'off'],
      ['archive_command', command],
      ['archive_timeout', `${options.timeoutS}s`],
    ];
    for (const [name, value] of settings)
      await queryRows(this.#o.adminUrl, `ALTER SYSTEM SET ${name} = '${value.replace(/'/g, "''")}'`);
    // A checkpoint first keeps the shutdown's short after a large seed; the start may still
    // replay WAL (a shutdown past Docker's 30 s is a kill) on a busy machine: longer than a fault's wait.
    await queryRows(this.#o.adminUrl, 'CHECKPOINT');
    const { primary } = this.#o;
    await primary.stop();
    await primary.docker.start();
    await primary.ready(RESTART_TIMEOUT_MS);
    if (options.tool === 'pgbackrest') {
      const created = await this.#pgBackRest(['stanza-create']);
      if (created.code !== 0) throw new RecoveryFailed('backup', `pgbackrest stanza-create failed: ${tail(created)}`);
    }
  }

  /**
   * pgBackRest's configuration and directories in the archive's mount, owned by the
   * container's postgres: the primary's data directory is wherever the image keeps it (a
   * baked one, or node.sh's own), asked of the server.
   */
  async #setUpPgBackRest(): Promise<void> {
    const [{ data_directory: pgPath }] = (await queryRows<{ data_directory: string }>(
      this.#o.adminUrl,
      'SHOW data_directory',
    )) as [{ data_directory: string }];
    const hostDir = path.join(this.#o.archiveDir, 'pgbackrest');
    for (const sub of ['repo', 'log', 'lock', 'spool'])
      mkdirSync(path.join(hostDir, sub), { recursive: true, mode: 0o700 });
    const text = pgBackRestConfigText({ dir: PGBACKREST_MOUNT, pgPath, socketDir: NODE_SOCKET_DIR, port: 5432 });
    writeFileSync(path.join(hostDir, 'pgbackrest.conf'), text, { mode: 0o600 });
    const owned = await this.#primaryContainer().exec(['chown', '-R', 'postgres:postgres', PGBACKREST_MOUNT]);
    if (owned.exitCode !== 0)
      throw new RecoveryFailed('backup', `could not hand pgBackRest's directory to postgres: ${owned.output.trim()}`);
  }

  async takeBackup({ tool, withWal }: { tool: BackupTool; withWal: boolean }): Promise<BaseBackup> {
    if (tool === 'pgbackrest') {
      const backup = await this.#pgBackRest(['--type=full', 'backup']);
      if (backup.code !== 0) throw new RecoveryFailed('backup', `pgbackrest backup failed: ${tail(backup)}`);
      this.#backedUp = true;
      const verify = await this.#pgBackRest(['verify']);
      return {
        tool,
        withWal: true,
        durationMs: backup.durationMs,
        verification:
          verify.code === 0
            ? { ok: true, output: 'pgbackrest verify: passed (in the primary container)' }
            : { ok: false, output: `pgbackrest verify failed: ${tail(verify)}` },
      };
    }
    const passfile = path.join(this.#o.dir, 'pgpass');
    writeFileSync(passfile, `*:*:*:replicator:${this.#o.replicationPassword}\n`, { mode: 0o600 });
    rmSync(this.#backupDir, { recursive: true, force: true });
    const conninfo = `host=127.0.0.1 port=${this.#o.primary.port} user=replicator passfile=${passfile}`;
    const backup = await this.#tool('pg_basebackup', [
      '-d',
      conninfo,
      '-D',
      this.#backupDir,
      '-X',
      withWal ? 'stream' : 'none',
      '--checkpoint=fast',
      '--no-sync',
      '--label=dbproof-drill',
    ]);
    if (backup.code !== 0) throw new RecoveryFailed('backup', `pg_basebackup failed: ${tail(backup)}`);
    this.#backedUp = true;
    const verify = await this.#tool('pg_verifybackup', [...(withWal ? [] : ['-n']), this.#backupDir]);
    const name = withWal ? 'pg_verifybackup' : 'pg_verifybackup -n (no WAL to check)';
    return {
      tool,
      withWal,
      durationMs: backup.durationMs,
      verification:
        verify.code === 0
          ? { ok: true, output: `${name}: passed (from the host over 127.0.0.1:${this.#o.primary.port})` }
          : { ok: false, output: `${name} failed: ${tail(verify)}` },
    };
  }

  /** SIGKILL, then the container removed: its data directory was in it. The archive, on the host, stays. */
  async destroyPrimary(): Promise<void> {
    const { primary, watchdog } = this.#o;
    await primary.kill();
    const container = this.#o.containers.find((c) => c.getId() === primary.docker.containerId);
    await container?.stop({ remove: true, removeVolumes: true, timeout: 0 }).catch(() => {});
    watchdog.forgetContainer(primary.docker.containerId);
  }

  async restore(request: RestoreRequest): Promise<RestoredNode> {
    const started = performance.now();
    if (!this.#backedUp) throw new RecoveryFailed('restore', 'no base backup was taken');
    const name = `restored${++this.#restored}`;
    const port = await freePort();
    const recovery: string[] = [];
    const pgbackrest = request.backup.tool === 'pgbackrest';
    if (this.#archiving?.enabled) {
      const restoreCommand = pgbackrest
        ? pgBackRestArchiveGet(PGBACKREST, RESTORED_DATA)
        : `cp '${ARCHIVE_MOUNT}/%f' %p`;
      recovery.push('-c', `restore_command=${restoreCommand}`, '-c', 'recovery_target_action=promote');
      if (request.target !== 'latest')
        recovery.push(
          '-c',
          `recovery_target_time=${request.target.toISOString().replace('T', ' ').replace('Z', '')}+00`,
        );
    }
    const { labels, network, image, nodeScript } = this.#o;
    let running: StartedTestContainer;
    try {
      running = await new LoopbackContainer(image)
        .withLabels(labels)
        .withOnlyNetwork(network, [name])
        .withLoopbackPort(5432, port)
        .withStopSignal('SIGINT')
        .withBindMounts(
          pgbackrest
            ? // pgBackRest writes its log and lock files beside the repository, also to restore.
              [{ source: this.#o.archiveDir, target: ARCHIVE_MOUNT, mode: 'rw' }]
            : [
                { source: this.#backupDir, target: BACKUP_MOUNT, mode: 'ro' },
                { source: this.#o.archiveDir, target: ARCHIVE_MOUNT, mode: 'ro' },
              ],
        )
        .withEnvironment({
          ...(this.#archiving?.enabled ? { DBPROOF_RECOVERY: '1' } : {}),
          ...(pgbackrest ? { DBPROOF_RESTORE_FROM: PGBACKREST.base.join(' ') } : {}),
        })
        .withEntrypoint(['/bin/sh', '-c', nodeScript, 'node.sh'])
        .withCommand([
          'restore',
          ...this.#o.settingArgs,
          // Last wins: a restored node archives nothing (its new timeline would change what a
          // later restore replays) and waits for no standby.
          ...['-c', `cluster_name=${name}`, '-c', 'archive_mode=off', '-c', 'synchronous_standby_names='],
          ...recovery,
        ])
        .withWaitStrategy(Wait.forLogMessage('dbproof: starting postgres'))
        // pgBackRest's restore runs before that line: bounded by the restore's own time, not a start's.
        .withStartupTimeout(pgbackrest ? (request.timeoutMs ?? RESTORE_TIMEOUT_MS) : 120_000)
        .start();
    } catch (error) {
      throw new RecoveryFailed('restore', `${name} did not start: ${(error as Error).message}`);
    }
    this.#o.containers.push(running);
    this.#o.watchdog.watchContainer(running.getId());
    const node = new ContainerPgNode(
      name,
      'primary',
      withPort(this.#o.url, port),
      withPort(this.#o.adminUrl, port),
      port,
      new DockerControl(name, running.getId()),
      () => undefined,
      network.getId(),
    );
    await this.#waitForPromotion(node, running, request.timeoutMs ?? RESTORE_TIMEOUT_MS);
    return { node, durationMs: performance.now() - started };
  }

  /** Recovery is over when the node accepts writes; a container that exits meanwhile failed to recover. */
  async #waitForPromotion(node: ContainerPgNode, container: StartedTestContainer, timeoutMs: number): Promise<void> {
    const promoted = await pollUntil(
      async () => {
        if (!(await node.docker.state()).running)
          throw new RecoveryFailed('restore', `${node.name} exited during recovery: ${await whyItStopped(container)}`);
        try {
          const rows = await queryRows<{ recovering: boolean }>(
            node.adminUrl,
            'SELECT pg_is_in_recovery() AS recovering',
            [],
            1000,
          );
          return !rows[0]!.recovering;
        } catch {
          return false; // starting, or between restarts: asked again
        }
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (!promoted) throw new RecoveryFailed('restore', `${node.name} was still recovering after ${timeoutMs} ms`);
    await node.ready();
  }
}

/** The server's FATAL and PANIC lines from the container's log, else its last lines. */
async function whyItStopped(container: StartedTestContainer): Promise<string> {
  const stream = await container.logs();
  const log = await new Promise<string>((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer | string) => {
      text += chunk.toString();
    });
    stream.on('end', () => resolve(text));
    stream.on('error', () => resolve(text));
    setTimeout(() => resolve(text), 2000).unref();
  });
  const fatal = log
    .split('\n')
    .filter(
      (line) => /\b(FATAL|PANIC):/.test(line) && !/the database system is (starting up|in recovery mode)/.test(line),
    )
    .map((line) => line.replace(/^.*?\b(FATAL|PANIC):\s*/, '$1: ').trim());
  return fatal.length
    ? [...new Set(fatal)].slice(-3).join(' | ')
    : log.trim().split('\n').slice(-4).join(' | ') || '(no log)';
}

/** The run's directory for the archive and the backup, registered with the watchdog before it exists. */
export function recoveryDir(root: string, topologyId: string, watchdog: Watchdog): { dir: string; archiveDir: string } {
  const dir = path.join(root, `dbproof-recovery-${topologyId}`);
  watchdog.watchDir(dir);
  const archiveDir = path.join(dir, 'archive');
  mkdirSync(archiveDir, { recursive: true, mode: 0o700 });
  return { dir, archiveDir };
}
