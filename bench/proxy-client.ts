// The app's side of `npm run bench -- proxy`, in a process of its own (as an app is): for each
// line `{"url":…,"queries":n,"warmup":n,"everyMs":ms,"percentiles":[50,…]}` on stdin, one pg connection, `warmup`
// queries, then `queries` times `SELECT 1` sent at a fixed rate (one every `everyMs`, whether
// the previous one has come back or not: an open model, so a stall delays every query sent
// during it, as it would an app's traffic), each timed from its send to its answer (a query
// queued behind a slow one on the connection counts its wait). Answers a line
// `{"50":µs,…}` on stdout.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

for await (const line of createInterface({ input: process.stdin })) {
  const { url, queries, warmup, everyMs, percentiles } = JSON.parse(line) as {
    url: string;
    queries: number;
    warmup: number;
    everyMs: number;
    percentiles: number[];
  };
  const client = new pg.Client(url);
  await client.connect();
  for (let i = 0; i < warmup; i++) await client.query('SELECT 1');
  const samples = new Float64Array(queries);
  // One query at a time on the connection (as node-postgres sends them), queued here in order.
  let last = Promise.resolve();
  const origin = performance.now();
  for (let i = 0; i < queries; i++) {
    const wait = origin + i * everyMs - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = process.hrtime.bigint();
    last = last.then(async () => {
      await client.query('SELECT 1');
      samples[i] = Number(process.hrtime.bigint() - sent) / 1000;
    });
  }
  await last;
  await client.end();
  samples.sort();
  process.stdout.write(
    `${JSON.stringify(Object.fromEntries(percentiles.map((p) => [p, percentile(samples, p / 100)])))}\n`,
  );
}
