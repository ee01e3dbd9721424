import { isAlive } from '../../harness/process/node-processes.mjs';

/** Polls until none of `pids` is alive; returns the ones still alive at the deadline. */
export async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export { isAlive };
