import { fileURLToPath } from 'node:url';
import { startEngineProcess } from './process.ts';
import type { EngineProgress, EngineReport, EngineRequest } from './types.ts';

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
  const timeoutMs = request.timeoutMs ?? 10_000;
  const engine = startEngineProcess(request.rate ? CHILDREN.open : CHILDREN.closed, sent, {
    runMs: (request.warmupMs ?? 0) + request.durationMs + timeoutMs + ENGINE_MARGIN_MS,
    overrun: `the load engine was still running ${ENGINE_MARGIN_MS / 1000} s after its ${request.durationMs / 1000} s load (and ${timeoutMs / 1000} s time-out) should have ended; it was killed`,
    onProgress: onProgress as ((progress: unknown) => void) | undefined,
  });
  return engine.report as Promise<EngineReport>;
}
