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
