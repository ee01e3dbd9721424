import { describe, expect, test } from 'vitest';
import { pitrCheck, recoveryPoint } from '../../suites/recovery/recovery-point.ts';

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
