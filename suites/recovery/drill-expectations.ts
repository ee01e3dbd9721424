// What the backup-restore drill's tests assert on every provider: a drill that passes (with
// each tool), and the controls ('/bin/true', a segment never switched) failing the verdict
// that names their reason.
import { expect } from 'vitest';
import type { SuiteResult } from '../../harness/results/index.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';

/** Every verdict holds; some writes were archived, and the point in time split the writes. */
export function expectRestoredDrill(result: SuiteResult): void {
  expect(result.pass, verdictLines(result)).toBe(true);
  const m = result.measurements;
  expect(m.acknowledgedWrites).toBeGreaterThan(50);
  // Some writes are in the archive (switched every 5 s), so not everything was lost.
  expect(m.missingWrites!).toBeLessThan(m.acknowledgedWrites!);
  expect(m.pitrMismatches).toBe(0);
  expect(m.pitrWritesBefore).toBeGreaterThan(10);
  expect(m.pitrWritesAfter).toBeGreaterThan(10);
}

/** Nothing archived ('/bin/true'): every write after the backup lost, the point in time never reached. */
export function expectNothingArchived(result: SuiteResult): void {
  const rpo = verdictOn(result, 'rpoMs');
  expect(rpo.pass, verdictLines(result)).toBe(false);
  expect(result.measurements.missingWrites).toBe(result.measurements.acknowledgedWrites);
  expect(rpo.measured!).toBeGreaterThan(15_000);
  expect(rpo.evidence).toMatch(/acknowledged writes missing: d-[0-9a-f]+-\d+-\d+/);
  // The backup itself is fine, and so is a restore of it: what is missing is the archive.
  expect(verdictOn(result, 'backupFailures').pass).toBe(true);
  expect(verdictOn(result, 'restoreFailures').pass).toBe(true);
  const pitr = verdictOn(result, 'pitrMismatches');
  expect(pitr.pass).toBe(false);
  expect(pitr.evidence).toMatch(/recovery ended before configured recovery target was reached/);
}

/**
 * archive_timeout 0 and a trickle of writes: the last segment is never switched, so never
 * archived; every write after the backup is lost and the recovery point grows with the gap.
 * Run with `budgets: { rtoMs: 1 }`: the recovery time fails on what it measured.
 */
export function expectSegmentNeverArchived(result: SuiteResult): void {
  const rpo = verdictOn(result, 'rpoMs');
  expect(rpo.pass, verdictLines(result)).toBe(false);
  expect(rpo.budget.limit).toBe(10_000);
  expect(rpo.measured!).toBeGreaterThan(15_000);
  expect(result.measurements.acknowledgedWrites).toBeGreaterThan(10);
  expect(result.measurements.missingWrites).toBe(result.measurements.acknowledgedWrites);
  expect(verdictOn(result, 'restoreFailures').pass).toBe(true);
  const rto = verdictOn(result, 'rtoMs');
  expect(rto.pass).toBe(false);
  expect(rto.measured!).toBeGreaterThan(1);
}

/** The drill's options for that control: one writer every 500 ms for 20 s, no archive_timeout. */
export const TRICKLE_NEVER_SWITCHED = {
  archiveTimeoutS: 0,
  writers: 1,
  thinkMs: 500,
  durationMs: 20_000,
  // A recovery time no restore can meet: the verdict fails on what it measured, not for want of a restore.
  budgets: { rtoMs: 1 },
};

/** pgBackRest restored the latest state and the point in time, its own verify passed. */
export function expectPgBackRestDrill(result: SuiteResult): void {
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements.pitrMismatches).toBe(0);
  expect(result.measurements.missingWrites!).toBeLessThan(result.measurements.acknowledgedWrites!);
  expect(result.notes[0]).toMatch(/^backup: pgbackrest; pgbackrest verify/);
}

/** pgBackRest with archive_command '/bin/true': it refuses to back up (its error 068), and every later verdict has nothing measured. */
export function expectPgBackRestRefusal(result: SuiteResult): void {
  const backup = verdictOn(result, 'backupFailures');
  expect(backup.pass, verdictLines(result)).toBe(false);
  // pgBackRest checks the archive_command before it copies anything.
  expect(backup.evidence).toMatch(/pgbackrest backup failed: .*archive_command '\/bin\/true' must contain pgbackrest/);
  for (const metric of ['restoreFailures', 'rpoMs', 'rtoMs', 'pitrMismatches', 'smokeFailures'])
    expect(verdictOn(result, metric)).toMatchObject({ pass: false, measured: null });
}
