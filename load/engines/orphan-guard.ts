/**
 * An engine's process ends when the process that started it does, however that one ends
 * (even SIGKILL): its stdin is a pipe from the parent, and the kernel closes it.
 */
export function exitWithParent(): void {
  process.stdin.on('end', () => process.exit(1));
  process.stdin.on('error', () => process.exit(1));
  process.stdin.resume();
}

/** The line on stderr by which the parent knows the engine is loaded: its run deadline counts from there. */
export const STARTED_LINE = 'started';

export function announceStarted(): void {
  process.stderr.write(`${STARTED_LINE}\n`);
}

/**
 * Announces the engine loaded, then waits for the parent's `go <epoch ms>` on stdin: the
 * load's time 0, an instant every process reads alike, so the loads of several processes
 * and the parent's own schedule (a fault at 1000 ms) share one clock. Resolves with it as a
 * `performance.now()` value of this process.
 */
export function waitForGo(): Promise<number> {
  return new Promise<number>((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => {
      text += chunk;
      const match = /^go (\d+(?:\.\d+)?)\n/.exec(text);
      if (match) resolve(Number(match[1]) - performance.timeOrigin);
    });
    announceStarted();
  });
}
