import { describe, expect, test } from 'vitest';
import { backupRestoreOptions } from '../../suites/recovery/options.ts';
import { pitrCheck, recoveryPoint } from '../../suites/recovery/recovery-point.ts';
import { drillVerdicts } from '../../suites/recovery/verdicts.ts';

const write = (key: string, sentAt: number, ackedAt: number) => ({ key, sentAt, ackedAt });
const writes = [write('a', 0, 10), write('b', 20, 30), write('c', 40, 50), write('d', 60, 70)];

describe('recoveryPoint', () => {
  test('nothing missing is a recovery point of 0', () => {
    expect(recoveryPoint(writes, new Set(['a', 'b', 'c', 'd']), 100)).toEqual({
      missing: [],
      rpoMs: 0,
      newestMissingAgeMs: 0,
    });
  });

  test('the recovery point is the age at the disaster of the oldest write missing', () => {
    const { missing, rpoMs, newestMissingAgeMs } = recoveryPoint(writes, new Set(['a', 'b']), 100);
    expect(missing.map((w) => w.key)).toEqual(['c', 'd']);
    expect(rpoMs).toBe(50);
    expect(newestMissingAgeMs).toBe(30);
  });

  test('a gap in the middle counts from its oldest write, whatever came back after it', () => {
    expect(recoveryPoint(writes, new Set(['a', 'c', 'd']), 100).rpoMs).toBe(70);
  });
});

describe('pitrCheck', () => {
  test('a restore holding what was acknowledged before the target and nothing sent after it is exact', () => {
    expect(pitrCheck(writes, new Set(['a', 'b']), 35)).toEqual({
      before: 2,
      after: 2,
      missingBefore: [],
      presentAfter: [],
    });
  });

  test('a write acknowledged before the target and missing, or sent after it and present, is a mismatch', () => {
    const check = pitrCheck(writes, new Set(['a', 'd']), 35);
    expect(check.missingBefore).toEqual(['b']);
    expect(check.presentAfter).toEqual(['d']);
  });

  test('a write in flight across the target is not judged either way', () => {
    // b was sent at 20 and acknowledged at 30: the target 25 falls inside it.
    expect(pitrCheck(writes, new Set(['a']), 25)).toMatchObject({
      before: 1,
      after: 2,
      missingBefore: [],
      presentAfter: [],
    });
    expect(pitrCheck(writes, new Set(['a', 'b']), 25)).toMatchObject({ missingBefore: [], presentAfter: [] });
  });

  test('a write acknowledged in the very ms of the target may have committed after it: it counts as in flight', () => {
    expect(pitrCheck(writes, new Set(['a']), 30).before).toBe(1);
  });
});

describe('drillVerdicts', () => {
  const options = backupRestoreOptions.parse({});
  // What the drill finds when every write failed: nothing missing, nothing mismatched.
  const restoredWithoutWrites = {
    rpoMs: 0,
    missingKeys: [],
    rtoMs: 900,
    pitrMismatches: 0,
    smokeFailures: [],
  };

  test('no write acknowledged: the recovery point and the point-in-time recovery are not measured, and say why', () => {
    // Before, 0 ms and 0 mismatches over no write passed both.
    const verdicts = drillVerdicts(options, {
      ...restoredWithoutWrites,
      acknowledgedWrites: 0,
      lastWriteError: 'relation "no_such_table" does not exist',
    });
    const [rpo, pitr] = [verdicts[2]!, verdicts[4]!];
    for (const verdict of [rpo, pitr])
      expect(verdict).toMatchObject({
        pass: false,
        measured: null,
        evidence:
          'no write was acknowledged (last failed write: relation "no_such_table" does not exist): nothing to recover; check the drill\'s write or writeSql',
      });
    // What was measured still counts: the restore, its time, the smoke requests.
    expect(verdicts.filter((v) => v.pass).map((v) => v.budget.metric)).toEqual([
      'backupFailures',
      'restoreFailures',
      'rtoMs',
      'smokeFailures',
    ]);
  });

  test('writes acknowledged and all restored: every verdict passes', () => {
    const verdicts = drillVerdicts(options, { ...restoredWithoutWrites, acknowledgedWrites: 120 });
    expect(verdicts.map((v) => v.pass)).toEqual([true, true, true, true, true, true]);
  });
});
