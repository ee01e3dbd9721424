import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { InfrastructureError } from '../../harness/errors.ts';
import { runnableModule } from '../../harness/package-files.ts';
import { STARTED_LINE } from './orphan-guard.ts';

/**
 * tsx's loader, resolved from dbproof's own folder: `--import tsx` would be resolved from
 * the working directory, where a team's project may have no tsx at all.
 */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Loading the engine (tsx compiling it) on a busy machine: generous, and apart from the run's own deadline. */
const STARTUP_MS = 60_000;

/** An engine's process, loaded or loading: lines to its stdin, its report from its last stdout line. */
export interface EngineProcess {
  /** Resolves once the engine has announced it is loaded (its run deadline counts from there). */
  readonly started: Promise<void>;
  /** Its report: the last line it wrote to stdout, parsed; an InfrastructureError if it failed, overran or was killed. */
  readonly report: Promise<unknown>;
  /** Writes one line to its stdin. */
  send(line: string): void;
  /** Gives it `ms` from now to report, or it is killed (`why` then says what it overran). */
  deadline(ms: number, why: string): void;
  /** Kills it now (its report is then an error). */
  kill(): void;
}

/**
 * Starts `file` (an engine module: compiled JavaScript, or TypeScript run through tsx when
 * dbproof runs from source) in a process of its own,
 * with `payload` as its argument, so a load never shares an event loop with dbproof or with
 * the app under test. It dies with dbproof (its stdin closes); lines on its stderr that
 * start with `progress ` go to `onProgress`.
 */
export function startEngineProcess(
  file: string,
  payload: unknown,
  options: { runMs: number; overrun: string; onProgress?: (progress: unknown) => void },
): EngineProcess {
  const runnable = runnableModule(file);
  const loader = runnable.endsWith('.ts') ? ['--import', TSX] : [];
  const child = spawn(process.execPath, [...loader, runnable, JSON.stringify(payload)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.on('error', () => {});
  let stdout = '';
  let stderr = '';
  let partial = '';
  let overrun: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  // A hard deadline: an engine that outlives its load (frozen, starved, a bug) is killed and
  // the load is an error, never a command that runs for ever.
  const deadline = (ms: number, why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      overrun = why;
      child.kill('SIGKILL');
    }, ms);
  };
  deadline(STARTUP_MS, `the load engine did not start within ${STARTUP_MS / 1000} s; it was killed`);
  let announce!: () => void;
  const started = new Promise<void>((resolve) => (announce = resolve));
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('progress ')) {
        try {
          options.onProgress?.(JSON.parse(line.slice('progress '.length)));
        } catch {
          // a progress line cut short: the next one will do
        }
      } else if (line === STARTED_LINE) {
        deadline(options.runMs, options.overrun);
        announce();
      } else stderr += `${line}\n`;
    }
  });
  // The engine goes with us: a load must not outlive the command that started it.
  const stop = () => child.kill('SIGKILL');
  process.once('exit', stop);
  const report = new Promise<unknown>((resolve, reject) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('exit', stop);
      if (overrun) return reject(new InfrastructureError(overrun));
      stderr += partial;
      const line = stdout.trim().split('\n').pop();
      if (code !== 0 || !line)
        return reject(
          new InfrastructureError(
            `the load engine failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`,
          ),
        );
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new InfrastructureError(`the load engine's report was cut short (${line.length} characters)`));
      }
    });
  });
  // A report awaited only after `started` must not be an unhandled rejection meanwhile.
  report.catch(() => {});
  return {
    started: Promise.race([started, report.then(() => {})]),
    report,
    send: (line) => child.stdin!.write(`${line}\n`),
    deadline,
    kill: () => child.kill('SIGKILL'),
  };
}
