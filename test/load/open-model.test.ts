import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { runOpenLoad } from '../../load/engines/open-model.ts';
import { faultImpact, Timeline, type Bucket } from '../../load/timeline.ts';

describe('open model', () => {
  test("a stalled server's tail is reported: every request due during the stall carries the wait", async () => {
    let releaseStall: () => void = () => {};
    const stall = new Promise<void>((resolve) => (releaseStall = resolve));
    let stalled = false;
    const server = http.createServer(async (_request, response) => {
      if (stalled) await stall;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // one connection: a stall blocks everything behind it
    const get = () =>
      new Promise<void>((resolve, reject) => {
        http.get(url, { agent }, (response) => response.resume().on('end', resolve)).on('error', reject);
      });
    // Stall from 300 ms to 1300 ms into a 2 s run at 100 requests/s.
    setTimeout(() => (stalled = true), 300);
    setTimeout(() => {
      stalled = false;
      releaseStall();
    }, 1300);
    const timeline = await runOpenLoad({ rate: 100, durationMs: 2000, request: get });
    agent.destroy();
    server.close();
    // Nothing omitted: all 200 due requests are in the figures, each timed from its due time.
    expect(timeline.requests).toBe(200);
    expect(timeline.errors).toBe(0);
    expect(timeline.percentile(99)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...timeline.buckets().map((b) => b.maxMs))).toBeGreaterThanOrEqual(900);
  });
});

describe('fault impact', () => {
  const bucket = (t: number, errors: number, p99Ms: number): Bucket => ({
    t,
    requests: 10,
    errors,
    p50Ms: p99Ms / 2,
    p99Ms,
    maxMs: p99Ms,
  });

  test('time to recover runs from the fault to the first bucket after which errors stay at 0 and p99 within budget', () => {
    const buckets = [
      bucket(0, 0, 10),
      bucket(100, 0, 10),
      bucket(200, 3, 900),
      bucket(300, 1, 400),
      bucket(400, 0, 350),
      bucket(500, 0, 20),
      bucket(600, 0, 15),
    ];
    expect(faultImpact(buckets, 150, 100)).toEqual({ errorsDuringFault: 4, timeToRecoverMs: 350, worstP99Ms: 900 });
  });

  test('a relapse after a good bucket is not a recovery', () => {
    const buckets = [bucket(0, 2, 500), bucket(100, 0, 10), bucket(200, 1, 10), bucket(300, 0, 10)];
    expect(faultImpact(buckets, 0, 100).timeToRecoverMs).toBe(300);
  });

  test('no recovery within the run is null, not a number', () => {
    expect(faultImpact([bucket(0, 1, 10), bucket(100, 1, 10)], 0, 100).timeToRecoverMs).toBeNull();
  });

  test('the timeline buckets samples by due time with percentiles per bucket', () => {
    const timeline = new Timeline(100);
    timeline.record(10, 5, true);
    timeline.record(50, 15, false);
    timeline.record(120, 100, true);
    const [first, second] = timeline.buckets();
    expect(first).toMatchObject({ t: 0, requests: 2, errors: 1 });
    expect(first!.maxMs).toBeCloseTo(15, 1);
    expect(second).toMatchObject({ t: 100, requests: 1, errors: 0 });
    expect(timeline.percentile(100)).toBeCloseTo(100, 0);
  });
});
