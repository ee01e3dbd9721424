/**
 * Backup and restore on a topology dbproof started: WAL archiving into a directory of the
 * run's own, a base backup with a real tool, the primary destroyed, a restore into a fresh
 * node. The nouns every provider that offers it implements (native and containers).
 */
import type { PgNode } from './types.ts';

/** The backup tools dbproof drives, in the order `dbproof doctor` lists them. */
export const BACKUP_TOOLS = ['pg_basebackup', 'pgbackrest'] as const;
export type BackupTool = (typeof BACKUP_TOOLS)[number];

export interface ArchivingOptions {
  tool: BackupTool;
  /** `archive_mode`: false leaves WAL unarchived (and a restore without an archive). */
  enabled: boolean;
  /**
   * The `archive_command`; undefined: the tool's own into the run's archive (a copy for
   * pg_basebackup, `pgbackrest archive-push` for pgBackRest).
   */
  command?: string;
  /** `archive_timeout` in seconds: a segment is switched (and archived) this often when written to; 0 never. */
  timeoutS: number;
}

export interface BaseBackup {
  tool: BackupTool;
  /** Whether the WAL written during the backup is in it (`pg_basebackup -X stream`). */
  withWal: boolean;
  durationMs: number;
  /** The tool's own verification (`pg_verifybackup`, `pgbackrest verify`). */
  verification: { ok: boolean; output: string };
}

export interface RestoreRequest {
  backup: BaseBackup;
  /** `latest`: every WAL segment the archive holds; a Date: `recovery_target_time`. */
  target: 'latest' | Date;
  /** How long recovery may take before the restore counts as failed (default 30 min). */
  timeoutMs?: number;
}

/** A restored node, promoted and accepting writes. */
export interface RestoredNode {
  node: PgNode;
  /** From the start of the restore until the node accepted writes. */
  durationMs: number;
}

/** A backup or restore that did not succeed: a finding of the drill, reported as a failed verdict. */
export class RecoveryFailed extends Error {
  constructor(
    readonly step: 'backup' | 'restore',
    message: string,
  ) {
    super(message);
    this.name = 'RecoveryFailed';
  }
}

export interface RecoveryControl {
  /**
   * Why `tool` cannot run on this topology (the containers' image has no pgBackRest), as a
   * line that says what to do; undefined when it can. Absent: the suite's own checks suffice.
   */
  missingTool?(tool: BackupTool): Promise<string | undefined>;
  /** Sets `archive_mode`, `archive_command` and `archive_timeout` on the primary and restarts it. */
  enableArchiving(options: ArchivingOptions): Promise<void>;
  /** A full base backup of the primary; throws RecoveryFailed when the tool fails. */
  takeBackup(options: { tool: BackupTool; withWal: boolean }): Promise<BaseBackup>;
  /** The disaster: the primary SIGKILLed and its data directory deleted. */
  destroyPrimary(): Promise<void>;
  /** A fresh node from the backup and the archive; throws RecoveryFailed when it does not come up promoted. */
  restore(request: RestoreRequest): Promise<RestoredNode>;
}
