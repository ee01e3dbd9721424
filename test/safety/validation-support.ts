import { spawn } from 'node:child_process';
import { BIN, type CliResult } from '../support/cli.ts';

export interface BoundedResult extends CliResult {
  /** The command was still running at the bound and was killed: a hang. */
  hung: boolean;
  ms: number;
}

/**
 * Runs `dbproof …` and kills it (SIGKILL) if it is still running after `boundMs`: a
 * hang shows as `hung: true` instead of a test that never ends.
 */
export function runCliWithin(
  args: string[],
  boundMs: number,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<BoundedResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const bound = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, boundMs);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(bound);
      resolve({ code, stdout, stderr, hung, ms: Date.now() - started });
    });
  });
}

/** What every refused input must look like: exit 2, one `dbproof: ` line on stderr, no stack. */
export function refusal(result: BoundedResult): {
  hung: boolean;
  code: number | null;
  lines: string[];
  stack: boolean;
} {
  const lines = result.stderr.trim().split('\n');
  return {
    hung: result.hung,
    code: result.code,
    lines: lines.map((l) => (l.startsWith('dbproof: ') ? 'dbproof: …' : l)),
    stack: /^\s+at |internal error/m.test(result.stderr),
  };
}

export const REFUSED = { hung: false, code: 2, lines: ['dbproof: …'], stack: false };
