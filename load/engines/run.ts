import { availableParallelism } from 'node:os';
import { siblingModule } from '../../harness/package-files.ts';
import { mergeReports } from './merge.ts';
import { goLine } from './orphan-guard.ts';
import { type EngineProcess, startEngineProcess } from './process.ts';
import {
  defaultConnections,
  defaultWorkers,
  type EngineProgress,
  type EngineReport,
  type EngineRequest,
} from './types.ts';

/** What an engine may take beyond its warm-up, duration and last request's time-out (reporting, exiting). */
export const ENGINE_MARGIN_MS = 10_000;

const CHILDREN = {
  open: siblingModule(import.meta.url, './open-child'),
  closed: siblingModule(import.meta.url, './autocannon-child'),
};

/**
 * Runs a load in processes of its own (the open model: dbproof's engine, one process per
 * `RATE_PER_WORKER` requests/s up to one per core; the closed model: autocannon), so the
 * load never shares an event loop with dbproof or with an app under test, and returns its
 * report (a split load's reports merged exactly). With `onProgress`, the engine reports
 * every `request.progressEveryMs` (default 1 s) what the last interval did.
 */
export async function runEngine(
  request: EngineRequest,
  onProgress?: (progress: EngineProgress) => void,
): Promise<EngineReport> {
  const sent = onProgress ? { progressEveryMs: 1000, ...request } : request;
  const timeoutMs = request.timeoutMs ?? 10_000;
  const options = {
    runMs: (request.warmupMs ?? 0) + request.durationMs + timeoutMs + ENGINE_MARGIN_MS,
    overrun: `the load engine was still running ${ENGINE_MARGIN_MS / 1000} s after its ${request.durationMs / 1000} s load (and ${timeoutMs / 1000} s time-out) should have ended; it was killed`,
  };
  if (!request.rate) {
    const engine = startEngineProcess(CHILDREN.closed, sent, {
      ...options,
      onProgress: onProgress as ((progress: unknown) => void) | undefined,
    });
    return (await engine.report) as EngineReport;
  }
  const workers = Math.max(1, request.workers ?? defaultWorkers(request.rate, availableParallelism()));
  const connections = request.connections ?? defaultConnections(request.rate);
  const progress = onProgress && combinedProgress(workers, onProgress);
  const engines: EngineProcess[] = Array.from({ length: workers }, (_, index) =>
    startEngineProcess(
      CHILDREN.open,
      {
        ...sent,
        rate: request.rate! / workers,
        connections: Math.max(1, Math.round(connections / workers)),
        ...(workers > 1 ? { worker: { index, of: workers } } : {}),
      },
      { ...options, onProgress: progress && ((line) => progress(index, line as EngineProgress)) },
    ),
  );
  try {
    await Promise.all(engines.map((engine) => engine.started));
    // One instant for all of them (the monotonic clock): the schedule's time 0. Each one's
    // deadline counts from here, not from when it loaded: a worker that loaded first must
    // not overrun while a slower one still compiles.
    const go = goLine();
    for (const engine of engines) {
      engine.deadline(options.runMs, options.overrun);
      engine.send(go);
    }
    return mergeReports((await Promise.all(engines.map((engine) => engine.report))) as EngineReport[]);
  } catch (error) {
    // One worker failed: the others are no use alone.
    for (const engine of engines) engine.kill();
    throw error;
  }
}

/**
 * Progress of a load split over `workers` processes, as one: each worker's line for an
 * interval is held until every worker has sent its own, then their sum goes out (the worst
 * p99 of them, as the interval's p99 cannot be merged from percentiles).
 */
function combinedProgress(
  workers: number,
  onProgress: (progress: EngineProgress) => void,
): (worker: number, progress: EngineProgress) => void {
  if (workers === 1) return (_worker, progress) => onProgress(progress);
  const pending: EngineProgress[][] = Array.from({ length: workers }, () => []);
  return (worker, progress) => {
    pending[worker]!.push(progress);
    if (pending.some((lines) => lines.length === 0)) return;
    const lines = pending.map((queue) => queue.shift()!);
    onProgress({
      elapsedMs: Math.max(...lines.map((l) => l.elapsedMs)),
      requests: lines.reduce((sum, l) => sum + l.requests, 0),
      errors: lines.reduce((sum, l) => sum + l.errors, 0),
      rps: lines.reduce((sum, l) => sum + l.rps, 0),
      p99Ms: Math.max(...lines.map((l) => l.p99Ms)),
    });
  };
}
