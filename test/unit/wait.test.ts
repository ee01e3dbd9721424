// The one bounded wait: it returns the first answer, gives up after its time-out (never
// waits for ever), and lets a check's error end it at once.
import { describe, expect, test } from 'vitest';
import { pollUntil } from '../../harness/wait.ts';

describe('pollUntil', () => {
  test('returns the first answer that is not false or undefined', async () => {
    let asked = 0;
    const answer = await pollUntil(() => (++asked === 3 ? 'ready' : false), { timeoutMs: 1000, intervalMs: 1 });
    expect({ answer, asked }).toEqual({ answer: 'ready', asked: 3 });
  });
  test.each([0, true, ''])('%j counts as an answer', async (value) => {
    expect(await pollUntil(async () => value, { timeoutMs: 0, intervalMs: 1 })).toBe(value);
  });
  test('asks at least once, even with no time', async () => {
    let asked = 0;
    expect(
      await pollUntil(
        () => {
          asked++;
          return undefined;
        },
        { timeoutMs: -5, intervalMs: 1 },
      ),
    ).toBeUndefined();
    expect(asked).toBe(1);
  });
  test('gives up with undefined once the time-out has passed, asking every interval until then', async () => {
    let asked = 0;
    const started = Date.now();
    expect(
      await pollUntil(
        () => {
          asked++;
          return false;
        },
        { timeoutMs: 60, intervalMs: 10 },
      ),
    ).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(asked).toBeGreaterThan(2);
    expect(asked).toBeLessThan(10);
  });
  test("a check's error ends the wait at once", async () => {
    let asked = 0;
    const failing = pollUntil(
      () => {
        asked++;
        throw new Error('exited during start-up');
      },
      { timeoutMs: 1000, intervalMs: 1 },
    );
    await expect(failing).rejects.toThrow('exited during start-up');
    expect(asked).toBe(1);
  });
});
