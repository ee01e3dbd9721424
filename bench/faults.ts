/**
 * `npm run bench -- faults`: how soon dbproof sees a fault, next to when the app showed it.
 *
 * A minimal app (its own process) answers at once and fails from the moment a fault
 * request reaches it; it notes (epoch ms, sub-millisecond) when it finished sending its
 * first failure: the ground truth. Under an open-model load of 200 requests/s, a fault is
 * applied through a fault schedule at a time that moves across the 100 ms buckets, 20
 * times. For each:
 * - the app's first failure, from the fault (what the app and the load allow);
 * - dbproof's `firstImpactMs` (from each request's own times), and its lag behind the app;
 * - what per-100 ms buckets alone could say: the end of the first bucket with an error.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSchedule } from '../harness/faults/index.ts';
import { runOpenLoad } from '../load/engines/open-model.ts';

const SERVER = fileURLToPath(new URL('./faults-server.ts', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]) => Math.max(...xs);
const BUCKET_MS = 100;

export async function benchFaults(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    child.stdout!.once('data', (chunk) => resolve(String(chunk).trim())),
  );
  const rate = 200;
  const figures = { app: [] as number[], reported: [] as number[], lag: [] as number[], bucket: [] as number[] };
  try {
    for (let trial = 0; trial < 20; trial++) {
      await fetch(`${url}/heal`, { method: 'POST' });
      const faultAt = 300 + trial * 4.7; // across a bucket: 300 … 389 ms
      const schedule = runSchedule([
        { at: faultAt, kind: 'fail', target: 'app', apply: () => fetch(`${url}/fail`, { method: 'POST' }) },
      ]);
      const startedEpoch = performance.timeOrigin + performance.now();
      const timeline = await runOpenLoad({
        rate,
        durationMs: 600,
        bucketMs: BUCKET_MS,
        request: async () => {
          const r = await fetch(url);
          if (!r.ok) throw new Error(String(r.status));
        },
      });
      const [event] = await schedule.done;
      const { at: firstFailureEpoch } = (await (await fetch(`${url}/first-failure`)).json()) as { at: number };
      const appFirstFailure = firstFailureEpoch - startedEpoch - event!.t;
      const reported = timeline.impactOf(event!.t, 1000).firstImpactMs!;
      const firstBucket = timeline.buckets().find((b) => b.errors > 0)!;
      figures.app.push(appFirstFailure);
      figures.reported.push(reported);
      figures.lag.push(reported - appFirstFailure);
      figures.bucket.push(firstBucket.t + BUCKET_MS - event!.t);
    }
  } finally {
    child.kill('SIGTERM');
  }
  const line = (name: string, xs: number[]) =>
    `  ${name.padEnd(34)} median ${median(xs).toFixed(2)} ms, max ${max(xs).toFixed(2)} ms`;
  console.log(
    `faults: fault-to-observed latency, minimal app, open model ${rate} requests/s (one every ${1000 / rate} ms), 20 faults across a ${BUCKET_MS} ms bucket`,
  );
  console.log(line("the app's first failure", figures.app));
  console.log(line('dbproof firstImpactMs', figures.reported));
  console.log(line('dbproof behind the app', figures.lag));
  console.log(
    `  ratio dbproof / app                median ${(median(figures.reported) / median(figures.app)).toFixed(2)}`,
  );
  console.log(line('per-bucket timing alone', figures.bucket));
}
