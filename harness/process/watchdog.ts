import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WATCHDOG_SCRIPT = fileURLToPath(new URL('./watchdog.mjs', import.meta.url));

/**
 * The owner's end of the watchdog pipe. Whatever is registered here is ended or
 * removed when this process dies, however it dies. A clean stop forgets each item
 * as it goes, then closes the pipe.
 */
export class Watchdog {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static start(): Watchdog {
    const child = spawn(process.execPath, [WATCHDOG_SCRIPT], {
      detached: true, // its own session: a Ctrl-C to our terminal group does not reach it
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.unref();
    // The pipe must not keep the owner's event loop alive.
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.stdin!.on('error', () => {});
    return new Watchdog(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * A node whose processes all work in `dir` and run one of `programs` (or descend
   * from one that does), with its main process and the signal that ends it gently.
   * Register again after each start (the PID changes); a node stopped cleanly needs
   * no forgetting: nothing will be found working in `dir`.
   */
  watchNode(dir: string, pid: number, gentleSignal: NodeJS.Signals, programs: readonly string[]): void {
    this.#send({ watchNode: dir, pid, signal: gentleSignal, programs });
  }

  /** A container removed (`docker rm --force`) when the owner dies. */
  watchContainer(id: string): void {
    this.#send({ watchContainer: id });
  }

  forgetContainer(id: string): void {
    this.#send({ forgetContainer: id });
  }

  /**
   * Every container and network carrying `label` (key=value) when the owner dies, looked
   * up then: for a compose project dbproof started, whose containers may not exist yet.
   * Only for a label nothing but this owner's resources can carry.
   */
  watchLabel(label: string): void {
    this.#send({ watchLabel: label });
  }

  /** A network removed after its containers when the owner dies. */
  watchNetwork(id: string): void {
    this.#send({ watchNetwork: id });
  }

  forgetNetwork(id: string): void {
    this.#send({ forgetNetwork: id });
  }

  /** A process group (its leader's PID) ended, SIGTERM then SIGKILL, when the owner dies. */
  watchProcessGroup(pgid: number): void {
    this.#send({ watchGroup: pgid });
  }

  forgetProcessGroup(pgid: number): void {
    this.#send({ forgetGroup: pgid });
  }

  /** A directory removed when the owner dies, after SIGKILL to the processes of `programs` still working in it. */
  watchDir(dir: string, programs: readonly string[] = []): void {
    this.#send({ watchDir: dir, programs });
  }

  forgetDir(dir: string): void {
    this.#send({ forgetDir: dir });
  }

  /** Closes the pipe: the watchdog cleans up whatever is still registered and exits; resolves when it has. */
  close(timeoutMs = 10_000): Promise<void> {
    const child = this.#child;
    child.stdin?.end();
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #send(message: object): void {
    if (this.#child.stdin?.writable) this.#child.stdin.write(`${JSON.stringify(message)}\n`);
  }
}
