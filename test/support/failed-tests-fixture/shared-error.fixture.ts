import { beforeEach, describe, expect, test } from 'vitest';

// Two tests failing on one error (their hook's): vitest prints their FAIL lines together, then the error once.
describe('a hook that fails', () => {
  beforeEach(() => {
    throw new Error('the topology did not start');
  });
  test('first', () => {});
  test('second', () => {});
});

// A different error on each attempt (the measured value in its message): printed once per attempt.
let attempts = 0;
test('breaks its budget on both attempts', () => {
  attempts += 1;
  expect(600 + attempts, 'write p99 in ms').toBeLessThan(500);
});
