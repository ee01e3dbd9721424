import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { InfrastructureError, UsageError } from '../../harness/errors.ts';
import type { LoadSummary } from '../summary.ts';
import { k6Script, type K6Load } from './script.ts';

export const K6_MISSING = 'k6 is not on PATH: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/), or leave out --engine k6 to use dbproof\'s own engines';

export function k6OnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v k6'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The part of k6's end-of-test summary (handleSummary's `data`) dbproof reads. */
const trend = z.object({ avg: z.number(), min: z.number(), med: z.number(), max: z.number(), 'p(90)': z.number(), 'p(95)': z.number(), 'p(99)': z.number(), 'p(99.9)': z.number() });
export const k6SummarySchema = z.object({
  state: z.object({ testRunDurationMs: z.number() }),
  metrics: z.object({
    http_req_duration: z.object({ values: trend }),
    http_reqs: z.object({ values: z.object({ count: z.number(), rate: z.number() }) }),
    http_req_failed: z.object({ values: z.object({ rate: z.number(), passes: z.number() }) }).optional(),
  }),
});

/** k6's summary in dbproof's load summary: the same percentiles, counts, errors and model. */
export function readK6Summary(data: unknown, load: Pick<K6Load, 'rate' | 'connections' | 'durationMs'>): LoadSummary {
  const parsed = k6SummarySchema.safeParse(data);
  if (!parsed.success) throw new InfrastructureError(`k6's summary is not what dbproof reads (${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}); which k6 version is this?`);
  const { metrics } = parsed.data;
  const d = metrics.http_req_duration.values;
  const requests = metrics.http_reqs.values.count;
  // http_req_failed is a rate whose "passes" are the failed requests.
  const errors = metrics.http_req_failed?.values.passes ?? 0;
  return {
    model: load.rate ? 'open' : 'closed',
    engine: 'k6',
    rate: load.rate ?? null,
    connections: load.rate ? null : (load.connections ?? 10),
    durationMs: load.durationMs,
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    rps: metrics.http_reqs.values.rate,
    latencyMs: { p50: d.med, p90: d['p(90)'], p95: d['p(95)'], p99: d['p(99)'], 'p99.9': d['p(99.9)'], max: d.max, mean: d.avg },
  };
}

/**
 * Runs the load with `k6 run` (the script dbproof generates, thresholds from the budgets)
 * and reads k6's summary. k6 exits 99 when a threshold is crossed: that is a verdict, which
 * dbproof judges itself from the summary, not a failure to run.
 */
export async function runK6(load: K6Load): Promise<LoadSummary> {
  if (!k6OnPath()) throw new UsageError(K6_MISSING);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-k6-'));
  try {
    const summaryFile = path.join(dir, 'summary.json');
    const script = path.join(dir, 'load.ts');
    writeFileSync(script, k6Script({ ...load, summaryFile }));
    const child = spawn('k6', ['run', '--quiet', '--no-color', script], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const stop = () => child.kill('SIGKILL');
    process.once('exit', stop);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    process.off('exit', stop);
    if (code !== 0 && code !== 99) throw new InfrastructureError(`k6 run failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    return readK6Summary(JSON.parse(readFileSync(summaryFile, 'utf8')), load);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
