import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InfrastructureError, UsageError } from '../../harness/errors.ts';
import { Watchdog } from '../../harness/process/watchdog.ts';
import { EngineRecorder } from '../engines/recorder.ts';
import type { EngineReport } from '../engines/types.ts';
import { k6Script, type K6Load } from './script.ts';

export const K6_MISSING =
  "k6 is not on PATH: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/), or leave out the k6 engine (--engine k6, a scenario's engine: 'k6') to use dbproof's own";

/** Beyond its warm-up and duration: k6's start, its 30 s gracefulStop for requests in flight, its exit. */
const K6_GRACE_MS = 100_000;

export function k6OnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v k6'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface K6Point {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags: Record<string, string> | null };
}

/**
 * k6's granular output (`--out json`, one JSON object per line) as dbproof's engine report:
 * every `http_req_duration` point is one request (k6 stamps a point when the request ends,
 * so it started `value` ms earlier), failed when k6 tagged it `expected_response: false`,
 * counted against the mix entry its `name` tag names. The warm-up is left out, as in
 * dbproof's engines, so buckets, HDR histogram, per-endpoint figures and budgets are the same.
 */
export function readK6Points(
  text: string,
  load: Pick<K6Load, 'rate' | 'durationMs' | 'warmupMs' | 'mix' | 'url'>,
): EngineReport {
  const requests: { end: number; ms: number; ok: boolean; name: string }[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"http_req_duration"')) continue;
    const point = JSON.parse(line) as K6Point;
    if (point.type !== 'Point' || point.metric !== 'http_req_duration') continue;
    const end = Date.parse(point.data.time);
    if (!Number.isFinite(end) || typeof point.data.value !== 'number')
      throw new InfrastructureError(`k6's output has a point dbproof cannot read: ${line.slice(0, 200)}`);
    requests.push({
      end,
      ms: point.data.value,
      ok: point.data.tags?.expected_response !== 'false',
      name: point.data.tags?.name ?? '',
    });
  }
  if (requests.length === 0) throw new InfrastructureError('k6 wrote no http_req_duration point: did any request run?');
  // A loop, not Math.min(...): a long k6 run has millions of points, beyond a spread's argument limit.
  const started = requests.reduce((first, r) => Math.min(first, r.end - r.ms), Infinity);
  const mix = load.mix ?? [];
  const recorder = new EngineRecorder({ url: load.url, durationMs: load.durationMs, warmupMs: load.warmupMs, mix });
  for (const r of requests)
    recorder.record(
      Math.max(
        0,
        mix.findIndex((e) => e.request === r.name),
      ),
      r.end - r.ms - started,
      r.ms,
      r.ok,
    );
  return recorder.report(load.rate ? 'open' : 'closed', 'k6');
}

/**
 * Runs the load with `k6 run` (the script dbproof generates, thresholds from the budgets)
 * and reads k6's points. k6 exits 99 when a threshold is crossed: that is a verdict, which
 * dbproof judges itself, not a failure to run.
 */
export async function runK6(load: K6Load): Promise<EngineReport> {
  if (!k6OnPath()) throw new UsageError(K6_MISSING);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-k6-'));
  const watchdog = Watchdog.start();
  watchdog.watchDir(dir);
  try {
    const script = path.join(dir, 'load.ts');
    const points = path.join(dir, 'points.json');
    writeFileSync(script, k6Script(load));
    // k6 and its scratch folder go with us, however we end (SIGKILL included): the watchdog
    // ends k6's process group and removes the folder when this process dies.
    const child = spawn('k6', ['run', '--quiet', '--no-color', '--no-summary', '--out', `json=${points}`, script], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (child.pid) watchdog.watchProcessGroup(child.pid);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    // A hard deadline, as for dbproof's engines: k6 that outlives its load is killed, and the load is an error.
    let overrun = false;
    const deadline = setTimeout(
      () => {
        overrun = true;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      },
      (load.warmupMs ?? 0) + load.durationMs + K6_GRACE_MS,
    );
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(deadline);
    if (child.pid) watchdog.forgetProcessGroup(child.pid);
    if (overrun)
      throw new InfrastructureError(
        `k6 was still running ${K6_GRACE_MS / 1000} s after its ${load.durationMs / 1000} s load should have ended; it was killed`,
      );
    if (code !== 0 && code !== 99)
      throw new InfrastructureError(`k6 run failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    return readK6Points(readFileSync(points, 'utf8'), load);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    watchdog.forgetDir(dir);
    await watchdog.close();
  }
}
