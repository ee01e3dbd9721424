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
 * The `go` line that sets an engine off: now on the machine's monotonic clock
 * (`process.hrtime`, CLOCK_MONOTONIC, one clock for every process), in nanoseconds. Not
 * the epoch: each process reads the wall clock once when it starts, and a clock slewed or
 * stepped in between would put the parent's and the engine's time 0 apart.
 */
export function goLine(): string {
  return `go ${process.hrtime.bigint()}`;
}

/**
 * Announces the engine loaded, then waits for the parent's `goLine()` on stdin: the load's
 * time 0, so the loads of several processes and the parent's own schedule (a fault at
 * 1000 ms) share one clock. Resolves with it as a `performance.now()` value of this process.
 */
export function waitForGo(): Promise<number> {
  return new Promise<number>((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => {
      text += chunk;
      const match = /^go (\d+)\n/.exec(text);
      if (match) resolve(performance.now() - Number(process.hrtime.bigint() - BigInt(match[1]!)) / 1e6);
    });
    announceStarted();
  });
}

/**
 * Writes the engine's report (its last stdout line) and exits once it has gone out: stdout
 * to a pipe is asynchronous, and an exit at once would cut a large report short.
 */
export function reportAndExit(report: unknown): void {
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
}
