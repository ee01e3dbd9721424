// The fault proxy's toxics, on a real Postgres, in both places a proxy runs: in this process
// (`startFaultProxy`) and in a link host, a process of its own (`startLinkHost`, what a run
// uses). A change takes effect when `settled()` resolves; the in-process proxy's at once.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { type FaultProxy, startFaultProxy } from '../../harness/faults/proxy.ts';
import { startLinkHost } from '../../harness/faults/link-host.ts';

let topology: Topology;
beforeAll(async () => {
  topology = await startTopology({ replicas: 0, redis: false });
});
afterAll(async () => {
  await topology?.stop();
});

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

const WHERE: [string, (upstream: { port: number }) => Promise<FaultProxy>][] = [
  ['in this process', (upstream) => startFaultProxy(upstream)],
  ['in a link host', async (upstream) => (await startLinkHost([upstream])).proxies[0]!],
];

describe.each(WHERE)('fault proxy %s', (_, start) => {
  let proxy: FaultProxy;
  /** The app's URL, through the proxy. */
  const viaProxy = () => Object.assign(new URL(topology.primary.url), { port: String(proxy.port) }).toString();

  beforeAll(async () => {
    proxy = await start({ port: topology.primary.port });
  });
  afterEach(async () => {
    proxy.reset();
    await proxy.settled();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  test('without toxics it is a transparent pipe', async () => {
    const client = new pg.Client(viaProxy());
    await client.connect();
    expect((await client.query('SELECT 41 + 1 AS answer')).rows).toEqual([{ answer: 42 }]);
    await client.end();
  });

  test('latency delays every response by at least the latency, on open connections too', async () => {
    const client = new pg.Client(viaProxy());
    await client.connect();
    proxy.addToxic({ type: 'latency', latency: 300 });
    await proxy.settled();
    const { ms } = await timed(() => client.query('SELECT 1'));
    expect(ms).toBeGreaterThanOrEqual(300);
    proxy.reset();
    await client.end();
  });

  test('timeout is a black hole: nothing comes back, the client must time out on its own', async () => {
    proxy.addToxic({ type: 'timeout', timeout: 0 });
    await proxy.settled();
    const client = new pg.Client({ connectionString: viaProxy(), connectionTimeoutMillis: 500 });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow(/timeout/i);
    proxy.reset();
    await proxy.settled();
    const after = new pg.Client(viaProxy());
    await after.connect();
    expect((await after.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    await after.end();
  });

  test('reset_peer resets open connections', async () => {
    const client = new pg.Client(viaProxy());
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();
    proxy.addToxic({ type: 'reset_peer', timeout: 50 });
    await expect(client.query('SELECT pg_sleep(2)')).rejects.toThrow(/ECONNRESET|Connection terminated/);
  });

  test('bandwidth paces a large result to at most the rate', async () => {
    const client = new pg.Client(viaProxy());
    await client.connect();
    proxy.addToxic({ type: 'bandwidth', rate: 100 }); // 100 KB/s
    await proxy.settled();
    const { ms } = await timed(() => client.query("SELECT repeat('x', 200 * 1024) AS blob"));
    // 200 KB at 100 KB/s: the first chunk (up to 64 KB) goes at once, the rest is paced,
    // so at least 136 KB / 100 KB/s ≈ 1.36 s.
    expect(ms).toBeGreaterThanOrEqual(1300);
    proxy.reset();
    await client.end();
  });

  test('slow_close holds the close back', async () => {
    proxy.addToxic({ type: 'slow_close', delay: 400 });
    await proxy.settled();
    const client = new pg.Client(viaProxy());
    await client.connect();
    const before = proxy.connections();
    expect(before).toBeGreaterThanOrEqual(1);
    await client.end();
    expect(proxy.connections()).toBe(before); // still open on the proxy's side
    // …and closed once the delay is over (polled: only the lower bound is a fact).
    const deadline = Date.now() + 5000;
    while (proxy.connections() !== before - 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(proxy.connections()).toBe(before - 1);
  });

  test('a toxic name may be active once', () => {
    proxy.addToxic({ type: 'latency', latency: 10, name: 'slow' });
    expect(() => proxy.addToxic({ type: 'latency', latency: 20, name: 'slow' })).toThrow(/already active/);
  });
});
