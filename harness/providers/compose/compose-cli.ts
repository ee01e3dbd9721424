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
  options: { what: string; env: NodeJS.ProcessEnv; watchdog?: Watchdog },
): Promise<void> {
  const { what } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      env: options.env,
      detached: options.watchdog !== undefined,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const group = child.pid;
    if (group !== undefined) options.watchdog?.watchProcessGroup(group);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', (error) => reject(dockerProblem(error, what)));
    child.once('close', (code) => {
      if (group !== undefined) options.watchdog?.forgetProcessGroup(group);
      if (code === 0) resolve();
      else reject(dockerProblem(Object.assign(new Error(`exit code ${code}`), { stderr: complaint(stderr) }), what));
    });
  });
}
