import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import { lostEvidence } from '../support/acknowledged-writes.ts';
import type { BackupRestoreOptions } from './options.ts';

/** What a drill found; null where the drill never got that far (a failed backup or restore). */
export interface DrillFindings {
  /** Why the base backup failed, or its verification did. */
  backupFailure?: string;
  /** Why the restore to the latest state failed (or the app on it). */
  restoreFailure?: string;
  rpoMs: number | null;
  missingKeys: string[];
  /** Writes the app acknowledged before the disaster (none: nothing to recover); undefined when the writes never ran. */
  acknowledgedWrites?: number;
  /** The last write that failed, when one did. */
  lastWriteError?: string;
  rtoMs: number | null;
  pitrMismatches: number | null;
  pitrEvidence?: string;
  smokeFailures: string[] | null;
}

/**
 * The drill's six verdicts, always all six: a step that failed makes its own verdict fail with
 * the reason, and every later one fail with nothing measured (a restore never made has no RTO).
 */
export function drillVerdicts(options: BackupRestoreOptions, found: DrillFindings): Verdict[] {
  const rpoBudget = options.budgets.rpoMs ?? options.archiveTimeoutS * 1000 + 10_000;
  const earlier = found.backupFailure ?? found.restoreFailure;
  // No write acknowledged (the writes' request or SQL wrong, the app refusing them): nothing is
  // missing because nothing was there, and a restore holds every write before any target. The
  // recovery point and the point-in-time recovery are not measured, not passed.
  const nothingWritten =
    found.acknowledgedWrites === 0
      ? `no write was acknowledged${found.lastWriteError ? ` (last failed write: ${found.lastWriteError})` : ''}: nothing to recover; check the drill's write or writeSql`
      : undefined;
  return [
    judge(
      `the base backup with ${options.tool} succeeds and passes its own verification`,
      atMost('backupFailures', 0, 'count'),
      found.backupFailure ? 1 : 0,
      found.backupFailure,
    ),
    judge(
      'the latest state is restored into a fresh node, which the app then runs on',
      atMost('restoreFailures', 0, 'count'),
      found.backupFailure ? null : found.restoreFailure ? 1 : 0,
      earlier,
    ),
    judge(
      `recovery point: the writes lost are at most ${rpoBudget / 1000} s old at the disaster (archive_timeout ${options.archiveTimeoutS} s + 10 s)`,
      atMost('rpoMs', rpoBudget, 'ms', options.write),
      nothingWritten ? null : found.rpoMs,
      nothingWritten ??
        lostEvidence(found.missingKeys, `${found.missingKeys.length} acknowledged writes missing`) ??
        earlier,
    ),
    judge(
      `recovery time: the app answers on the restored node within ${options.budgets.rtoMs / 1000} s of the restore's start`,
      atMost('rtoMs', options.budgets.rtoMs, 'ms'),
      found.rtoMs,
      earlier,
    ),
    judge(
      'point-in-time recovery is exact: every write acknowledged before the target present, none sent after it',
      atMost('pitrMismatches', options.budgets.pitrMismatches, 'count', options.write),
      nothingWritten ? null : found.pitrMismatches,
      nothingWritten ?? found.pitrEvidence ?? found.backupFailure,
    ),
    judge(
      `the app answers ${options.smoke.join(', ')} on the restored node`,
      atMost('smokeFailures', 0, 'count'),
      found.smokeFailures?.length ?? null,
      found.smokeFailures?.[0] ?? earlier,
    ),
  ];
}
