// `app.instances` above what the machine runs at once is refused before anything starts:
// four instances per core, 150 MiB each, whichever allows fewer.
import { describe, expect, test } from 'vitest';
import { checkInstances, instancesCapacity } from '../../harness/app/index.ts';
import { UsageError } from '../../harness/errors.ts';

const GiB = 1024 ** 3;

describe('instances the machine runs at once', () => {
  test('two cores with memory to spare: eight, by the cores', () => {
    expect(instancesCapacity({ cores: 2, freeBytes: 20 * GiB })).toEqual({
      most: 8,
      why: '2 cores, 4 instances per core',
    });
    expect(() => checkInstances(8, { cores: 2, freeBytes: 20 * GiB })).not.toThrow();
  });

  test('nine on two cores is refused in one line that says how many fit', () => {
    expect(() => checkInstances(9, { cores: 2, freeBytes: 20 * GiB })).toThrow(UsageError);
    expect(() => checkInstances(9, { cores: 2, freeBytes: 20 * GiB })).toThrow(
      'app.instances 9 is more than this machine runs at once (2 cores, 4 instances per core: at most 8); set app.instances to 8 or fewer, or run on a larger machine',
    );
  });

  test('little memory free: the memory decides', () => {
    expect(instancesCapacity({ cores: 16, freeBytes: 0.5 * GiB }).most).toBe(3);
    expect(() => checkInstances(4, { cores: 16, freeBytes: 0.5 * GiB })).toThrow(
      /512 MiB free, 150 MiB per instance: at most 3/,
    );
  });

  test('one instance is never refused, whatever the machine', () => {
    expect(() => checkInstances(1, { cores: 1, freeBytes: 0 })).not.toThrow();
  });
});
