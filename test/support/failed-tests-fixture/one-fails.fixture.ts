import { describe, expect, test } from 'vitest';

describe('a suite', () => {
  test('holds its budget', () => {
    expect(612, 'write p99 in ms').toBeLessThan(500);
  });
  test('passes', () => {
    expect(1).toBe(1);
  });
});
