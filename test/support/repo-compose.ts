// The repository's own compose project (its docker-compose.yml, the project named after its
// directory) is one per machine, and `dbproof … --provider compose` run from the repository
// attaches to it whenever it runs: that is the provider's design. So a test file that brings
// it up (`docker compose up -d`) and one that runs dbproof's compose provider from the
// repository must not run at once: beside conformance's stack, compose-own-stack's `exec`
// attached to it before its replicas had ports, and its `up` attached and never ended (the
// "still running after 150 s" seen twice in ten full runs, never alone). A describe that
// does either holds this lock from its beforeAll to its afterAll.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const LOCK = path.join(os.tmpdir(), 'dbproof-test-repo-compose.lock');
const WAIT_MS = 600_000;

/** The holder's pid and token (`pid token`), or undefined while it has not written them. */
function holder(): { pid: number; token: string } | undefined {
  try {
    const [pid, token] = readFileSync(path.join(LOCK, 'pid'), 'utf8').split(' ');
    return Number.isInteger(Number(pid)) && Number(pid) > 0 && token ? { pid: Number(pid), token } : undefined;
  } catch {
    return undefined;
  }
}

/** Made more than 10 s ago with no holder written: its maker died between mkdir and write. */
function abandoned(): boolean {
  try {
    return Date.now() - statSync(LOCK).mtimeMs > 10_000;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for the lock and takes it; returns its release. A lock whose holder died is taken over. */
export async function holdRepoCompose(): Promise<() => void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      // A token as well as the pid: two holders may be one process (a worker's files in turn).
      const token = randomUUID();
      writeFileSync(path.join(LOCK, 'pid'), `${process.pid} ${token}`);
      // Removes the lock only while it is still this holder's: never one taken over since.
      return () => {
        if (holder()?.token === token) rmSync(LOCK, { recursive: true, force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = holder();
    const pid = held?.pid;
    // No pid yet: its holder is between mkdir and write, or died there. A dead holder's lock is stale.
    if (held ? !alive(held.pid) : abandoned()) rmSync(LOCK, { recursive: true, force: true });
    else if (Date.now() > deadline)
      throw new Error(
        `the repository's compose project stayed held by process ${pid} for ${WAIT_MS / 1000} s (${LOCK})`,
      );
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** In a describe: the lock held from before its first hook to after its last. */
export function holdRepoComposeAround(): void {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await holdRepoCompose();
  }, WAIT_MS + 10_000);
  afterAll(() => release?.());
}
