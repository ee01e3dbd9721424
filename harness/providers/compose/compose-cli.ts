import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';
import type { Watchdog } from '../../process/watchdog.ts';
import { dockerProblem } from './docker-cli.ts';

const run = promisify(execFile);

/** `docker compose` (v2) where it exists, else Compose v1's `docker-compose`. */
export async function composeCommand(): Promise<string[]> {
  try {
    await run('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    try {
      await run('docker-compose', ['version']);
      return ['docker-compose'];
    } catch {
      throw new InfrastructureError(
        'neither `docker compose` nor `docker-compose` is installed; install one (e.g. `apt-get install -y docker-compose`)',
      );
    }
  }
}

/**
 * How long a compose command may take: an `up` may pull images on a first run, so minutes;
 * past that the engine is stuck, and waiting longer would hang dbproof.
 */
export const COMPOSE_TIMEOUT_MS = 10 * 60_000;

/** Compose's complaint in one line: its error lines (it also reports progress on stderr), else its last line. */
function complaint(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length > 0 ? errors : lines.slice(-1)).join('; ');
}

/**
 * Runs a compose command to its end. Under a watchdog, in a process group of its own
 * that the watchdog ends if this process dies: an `up` cut short creates nothing more
 * after the watchdog has removed what it had created.
 */
export function runCompose(
  command: string[],
  args: string[],
  options: {
    what: string;
    env: NodeJS.ProcessEnv;
    watchdog?: Watchdog;
    /** Ended (its process group, where it has one) and reported past this: a stuck engine never hangs dbproof. */
    timeoutMs?: number;
  },
): Promise<void> {
  const { what } = options;
  const timeoutMs = options.timeoutMs ?? COMPOSE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // A process group of its own always: Compose v1 (and the v2 plugin under `docker`) runs a
    // child of its own, which a time-out must end too. Were dbproof to die meanwhile, an `up` is
    // ended by its watchdog; a `down` finishes removing dbproof's project by itself.
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      env: options.env,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const group = child.pid;
    if (group !== undefined) options.watchdog?.watchProcessGroup(group);
    let stderr = '';
    let timedOut = false;
    const timedOutError = () =>
      new InfrastructureError(
        `${what}: Compose had not finished after ${Math.round(timeoutMs / 1000)} s and was stopped; check the Docker engine (docker info)`,
      );
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (group !== undefined) process.kill(-group, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {}
    }, timeoutMs);
    // Settled on its exit once timed out: 'close' waits for every holder of its stderr, a child it left behind included.
    child.once('exit', () => {
      if (!timedOut) return;
      clearTimeout(timer);
      if (group !== undefined) options.watchdog?.forgetProcessGroup(group);
      child.stderr.destroy();
      reject(timedOutError());
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(dockerProblem(error, what));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (group !== undefined) options.watchdog?.forgetProcessGroup(group);
      if (timedOut) reject(timedOutError());
      else if (code === 0) resolve();
      else reject(dockerProblem(Object.assign(new Error(`exit code ${code}`), { stderr: complaint(stderr) }), what));
    });
  });
}
