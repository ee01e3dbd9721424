import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep asking, in ms: the check is asked at least once, and none is started after this. */
  timeoutMs: number;
  /** The pause between two asks, in ms. */
  intervalMs: number;
}

/**
 * Asks `check` every `intervalMs` until it answers something other than `false` or
 * `undefined`, and returns that answer; `undefined` when `timeoutMs` has passed without
 * one. Waiting in dbproof is this one bounded loop: each caller says what it waits for
 * (a port, a state, a replay position) and what a time-out means to it. An error thrown
 * by `check` ends the wait at once: a check that may fail for a while catches its own.
 */
export async function pollUntil<T>(
  check: () => T | false | undefined | Promise<T | false | undefined>,
  { timeoutMs, intervalMs }: PollOptions,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer !== false && answer !== undefined) return answer;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}
