import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InfrastructureError } from '../../harness/errors.ts';
import { STARTED_LINE } from './orphan-guard.ts';
import type { EngineProgress, EngineReport, EngineRequest } from './types.ts';

/**
 * tsx's loader, resolved from dbproof's own folder: `--import tsx` would be resolved from
 * the working directory, where a team's project may have no tsx at all.
 */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Loading the engine (tsx compiling it) on a busy machine: generous, and apart from the run's own deadline. */
const STARTUP_MS = 60_000;
/** What an engine may take beyond its warm-up, duration and last request's time-out (reporting, exiting). */
export const ENGINE_MARGIN_MS = 10_000;

const CHILDREN = {
  open: fileURLToPath(new URL('./open-child.ts', import.meta.url)),
  closed: fileURLToPath(new URL('./autocannon-child.ts', import.meta.url)),
};

/**
 * Runs a load in a process of its own (the open model: dbproof's engine; the closed
 * model: autocannon), so the load never shares an event loop with dbproof or with an app
 * under test, and returns its report. With `onProgress`, the engine reports every
 * `request.progressEveryMs` (default 1 s) what the last interval did.
 */
export function runEngine(
  request: EngineRequest,
  onProgress?: (progress: EngineProgress) => void,
): Promise<EngineReport> {
  const sent = onProgress ? { progressEveryMs: 1000, ...request } : request;
  const child = spawn(
    process.execPath,
    ['--import', TSX, request.rate ? CHILDREN.open : CHILDREN.closed, JSON.stringify(sent)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin!.on('error', () => {});
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  // A hard deadline: an engine that outlives its load (frozen, starved, a bug) is killed and
  // the load is an error, never a command that runs for ever.
  const runMs = (request.warmupMs ?? 0) + request.durationMs + (request.timeoutMs ?? 10_000) + ENGINE_MARGIN_MS;
  let overrun: string | undefined;
  const expire = (why: string) => () => {
    overrun = why;
    child.kill('SIGKILL');
  };
  let deadline = setTimeout(
    expire(`the load engine did not start within ${STARTUP_MS / 1000} s; it was killed`),
    STARTUP_MS,
  );
  child.stderr!.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('progress ')) onProgress?.(JSON.parse(line.slice('progress '.length)) as EngineProgress);
      else if (line === STARTED_LINE) {
        clearTimeout(deadline);
        deadline = setTimeout(
          expire(
            `the load engine was still running ${ENGINE_MARGIN_MS / 1000} s after its ${request.durationMs / 1000} s load (and ${(request.timeoutMs ?? 10_000) / 1000} s time-out) should have ended; it was killed`,
          ),
          runMs,
        );
      } else stderr += `${line}\n`;
    }
  });
  // The engine goes with us: a load must not outlive the command that started it.
  const stop = () => child.kill('SIGKILL');
  process.once('exit', stop);
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      clearTimeout(deadline);
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
      resolve(JSON.parse(line) as EngineReport);
    });
  });
}
