// What the backup-restore drill's tests assert on every provider: a drill that passes, and
// the '/bin/true' control failing the recovery point and the point in time for its reason.
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
