import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/dbproof.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `dbproof …` as a user would, in its own process. `wrapper` runs it through another
 * command first, e.g. `['setpriv', '--reuid=65534', …]` to run it as another user; `bin` runs
 * another copy of dbproof's bin/dbproof.js.
 */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; wrapper?: string[]; bin?: string } = {},
): Promise<CliResult> {
  const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...prefix, options.bin ?? BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `dbproof …` and resolves with the first line it prints on stdout (e.g. `up --json`'s object). */
export function startCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ child: ChildProcess; firstLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve({ child, firstLine: stdout.slice(0, newline) });
    });
    child.once('exit', (code) =>
      reject(new Error(`dbproof ${args.join(' ')} exited (${code}) before printing a line: ${stderr}`)),
    );
  });
}
