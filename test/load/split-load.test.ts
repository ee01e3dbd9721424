// A load split over worker processes (issue 14: one per core when the rate needs it): the
// schedule shared between them from one time 0, each sending its own share on its own
// connections and drawing its own ids, and one report with every histogram merged.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runEngine } from '../../load/engines/run.ts';
import type { EngineProgress } from '../../load/engines/types.ts';
import { defaultWorkers } from '../../load/engines/types.ts';

let server: http.Server;
let url: string;
const paths: string[] = [];
const peers = new Set<number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    paths.push(req.url!);
    peers.add(req.socket.remotePort!);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('two workers send the whole schedule between them, each its own ids, reported as one load', async () => {
  const progress: EngineProgress[] = [];
  const report = await runEngine(
    {
      url: `${url}/items/{id}`,
      rate: 400,
      durationMs: 2000,
      connections: 8,
      workers: 2,
      ids: { from: 1, to: 100_000, skew: 0 },
      progressEveryMs: 500,
    },
    (line) => progress.push(line),
  );
  expect(report).toMatchObject({ requests: 800, errors: 0, workers: 2, connections: 8 });
  expect(paths).toHaveLength(800);
  // Each worker draws its own sequence: the same seed would send every id twice.
  expect(new Set(paths).size).toBeGreaterThan(780);
  expect(peers.size).toBe(8);
  // Every 100 ms bucket holds both workers' requests: 40 each.
  expect(report.buckets.map((b) => b.requests)).toEqual(Array.from({ length: 20 }, () => 40));
  // The workers' progress comes out as one line per interval, their requests added.
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(Math.max(...progress.map((p) => p.requests))).toBeGreaterThan(120);
});

test('one worker per 20,000 requests/s, a core left for the server, never none', () => {
  expect(defaultWorkers(200, 8)).toBe(1);
  expect(defaultWorkers(35_000, 2)).toBe(1);
  expect(defaultWorkers(35_000, 4)).toBe(2);
  expect(defaultWorkers(100_000, 4)).toBe(3);
  expect(defaultWorkers(100_000, 8)).toBe(5);
  expect(defaultWorkers(100_000, 1)).toBe(1);
});
