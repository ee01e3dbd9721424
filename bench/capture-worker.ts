// One measurement for the capture benchmark, in a fresh process: 10,000 simple queries
// over one connection, plain or inside captureQueries(). Prints the milliseconds.
import pg from 'pg';

import { captureQueries } from '../harness/capture/in-process.ts';

const [url, variant] = process.argv.slice(2) as [string, 'plain' | 'context' | 'captured'];
const QUERIES = 10_000;
const client = new pg.Client(url);
await client.connect();
const work = async () => {
  for (let i = 0; i < QUERIES; i++) await client.query('SELECT $1::int AS n', [i]);
};
await client.query('SELECT 1'); // connection set-up outside the measurement
let ms: number;
if (variant === 'captured') {
  const started = performance.now();
  const { events } = await captureQueries(work);
  ms = performance.now() - started;
  if (events.length !== QUERIES) throw new Error(`captured ${events.length} of ${QUERIES}`);
} else if (variant === 'context') {
  // The AsyncLocalStorage context alone, nothing recorded: what Node charges for following async work.
  const { AsyncLocalStorage } = await import('node:async_hooks');
  const storage = new AsyncLocalStorage<object>();
  const started = performance.now();
  await storage.run({}, work);
  ms = performance.now() - started;
} else {
  const started = performance.now();
  await work();
  ms = performance.now() - started;
}
await client.end();
console.log(ms.toFixed(1));
