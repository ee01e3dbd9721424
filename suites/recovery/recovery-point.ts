import type { AcknowledgedWrite } from '../support/acknowledged-writes.ts';

/**
 * What a restore to the latest state kept: the acknowledged writes missing from it, and the
 * recovery point achieved, as the age at the disaster of the oldest write missing (every write
 * acknowledged after it may be missing too: the window of data lost). 0 when nothing is missing.
 */
export function recoveryPoint(
  acknowledged: readonly AcknowledgedWrite[],
  present: ReadonlySet<string>,
  disasterAt: number,
): { missing: AcknowledgedWrite[]; rpoMs: number; newestMissingAgeMs: number } {
  const missing = acknowledged.filter((w) => !present.has(w.key)).sort((a, b) => a.ackedAt - b.ackedAt);
  const age = (w: AcknowledgedWrite | undefined) => (w ? Math.max(0, disasterAt - w.ackedAt) : 0);
  // The newest write missing says how close to the disaster the loss reaches (usually the last write).
  return { missing, rpoMs: age(missing[0]), newestMissingAgeMs: age(missing.at(-1)) };
}

/**
 * Whether a point-in-time restore holds exactly what it should: every write acknowledged
 * before the target (committed before it) present, none sent after it (committed after it).
 * A write in flight across the target may be either: it is not judged. Times are whole ms
 * (a write acknowledged at ms `target` may have committed just after it: strictly before).
 */
export function pitrCheck(
  acknowledged: readonly AcknowledgedWrite[],
  present: ReadonlySet<string>,
  target: number,
): { before: number; after: number; missingBefore: string[]; presentAfter: string[] } {
  const before = acknowledged.filter((w) => w.ackedAt < target);
  const after = acknowledged.filter((w) => w.sentAt > target);
  return {
    before: before.length,
    after: after.length,
    missingBefore: before.filter((w) => !present.has(w.key)).map((w) => w.key),
    presentAfter: after.filter((w) => present.has(w.key)).map((w) => w.key),
  };
}
