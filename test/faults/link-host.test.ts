// The link host (issue 13): the fault proxies of a topology's links in a process of their
// own. That it goes when it should (close, and the death of whoever started it, even
// SIGKILL), that a change is in effect once `settled()` resolves (lower bounds on time
// only), that it re-points new connections, and that a host that cannot start or dies
// mid-run is a one-line InfrastructureError, never a hang.
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InfrastructureError } from '../../harness/errors.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { startLinkHost } from '../../harness/faults/link-host.ts';
import { startLinks } from '../../harness/faults/links.ts';
import { startTopology, type Topology } from '../../harness/index.ts';
import { isAlive, waitUntilGone } from '../support/processes.ts';

const OWNER = fileURLToPath(new URL('./link-host-owner.ts', import.meta.url));

/** A TCP server in this process that greets each connection with its name. */
async function greeter(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects to 127.0.0.1:port and resolves with the first data, or rejects with the connection's error. */
function firstWords(port: number): Promise<{ words: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('data', (data) => resolve({ words: String(data), socket }));
    socket.once('error', reject);
  });
}

/** Whether anything accepts a connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Stops a process (SIGSTOP) and lets it go on `ms` later; returns when it was stopped. */
function pauseFor(pid: number, ms: number): number {
  process.kill(pid, 'SIGSTOP');
  setTimeout(() => process.kill(pid, 'SIGCONT'), ms);
  return performance.now();
}

describe('the link host process', () => {
  test('starts with a proxy per upstream, bound to 127.0.0.1 only, and is gone with its ports after close()', async () => {
    const a = await greeter('a');
    const b = await greeter('b');
    try {
      const host = await startLinkHost([{ port: a.port }, { port: b.port }]);
      expect(isAlive(host.pid)).toBe(true);
      const ports = host.proxies.map((p) => p.port);
      expect((await firstWords(ports[0]!)).words).toBe('a');
      const { words, socket } = await firstWords(ports[1]!);
      expect(words).toBe('b');
      socket.destroy();
      // Only on the loopback address: not on another of this machine's addresses.
      const other = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (other)
        await expect(
          new Promise((resolve, reject) =>
            net.connect(ports[0]!, other.address).once('connect', resolve).once('error', reject),
          ),
        ).rejects.toThrow(/ECONNREFUSED/);
      await host.close();
      expect(isAlive(host.pid)).toBe(false);
      for (const port of ports) expect(await listening(port)).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('is gone with its ports when the process that started it is SIGKILLed', async () => {
    const upstream = await greeter('u');
    const owner = spawn(process.execPath, ['--import', 'tsx', OWNER, String(upstream.port), String(upstream.port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const { pid, ports } = await new Promise<{ pid: number; ports: number[] }>((resolve, reject) => {
        owner.stdout!.once('data', (chunk) => resolve(JSON.parse(String(chunk))));
        owner.once('exit', (code) => reject(new Error(`the owner exited (${code}) before it started a link host`)));
      });
      expect(isAlive(pid)).toBe(true);
      expect((await firstWords(ports[0]!)).words).toBe('u');
      owner.kill('SIGKILL');
      expect(await waitUntilGone([pid], 10_000)).toEqual([]);
      for (const port of ports) expect(await listening(port)).toBe(false);
    } finally {
      owner.kill('SIGKILL');
      await upstream.close();
    }
  });

  test('retarget sends new connections to the new upstream and closes the open ones', async () => {
    const a = await greeter('a');
    const b = await greeter('b');
    const host = await startLinkHost([{ port: a.port }]);
    try {
      const proxy = host.proxies[0]!;
      const before = await firstWords(proxy.port);
      expect(before.words).toBe('a');
      const closed = new Promise((resolve) => before.socket.once('close', resolve));
      proxy.retarget({ port: b.port });
      expect(proxy.upstream).toEqual({ host: '127.0.0.1', port: b.port });
      await proxy.settled();
      await closed;
      const after = await firstWords(proxy.port);
      expect(after.words).toBe('b');
      after.socket.destroy();
    } finally {
      await host.close();
      await a.close();
      await b.close();
    }
  });

  test('a host that cannot start is an InfrastructureError, one line', async () => {
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--require /nonexistent/dbproof-no-such-module.cjs';
    try {
      const starting = startLinkHost([{ port: 1 }]);
      await expect(starting).rejects.toBeInstanceOf(InfrastructureError);
      await expect(starting).rejects.toThrow(
        /^the link host .* could not start \(it exited with code \d+: .+\)[^\n]*$/,
      );
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
  });

  test('a host that dies mid-run: what waits on it fails with a one-line InfrastructureError, and so does the next change', async () => {
    const upstream = await greeter('u');
    const host = await startLinkHost([{ port: upstream.port }]);
    try {
      const proxy = host.proxies[0]!;
      process.kill(host.pid, 'SIGSTOP'); // it cannot answer…
      proxy.addToxic({ type: 'latency', latency: 10 });
      const waiting = proxy.settled();
      process.kill(host.pid, 'SIGKILL'); // …and then it is gone
      await expect(waiting).rejects.toBeInstanceOf(InfrastructureError);
      await expect(waiting).rejects.toThrow(/^the link host \(pid \d+: .*\) died mid-run \(SIGKILL\)$/);
      expect(() => proxy.reset()).toThrow(/died mid-run/);
      await expect(proxy.settled()).rejects.toThrow(/died mid-run/);
      await host.close(); // nothing left to close: resolves
    } finally {
      await upstream.close();
    }
  });
});

describe('links through a link host, on a real Postgres', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ replicas: 0, redis: false });
  });
  afterAll(async () => {
    await topology?.stop();
  });

  test('a toxic is in effect once settled() resolves, and reset() removes it', async () => {
    const links = await startLinks(topology);
    try {
      const client = new pg.Client(links.writer.url);
      await client.connect();
      // The host stopped for 200 ms: settled() waits until it has read and applied the toxic.
      const stoppedAt = pauseFor(links.pid, 200);
      links.writer.proxy.addToxic({ type: 'latency', latency: 300 });
      await links.settled();
      expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(200);
      const started = performance.now();
      await client.query('SELECT 1');
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
      await client.end();

      // A black hole, then reset(): a new connection gets through only if the host removed it.
      links.writer.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'upstream' });
      await links.settled();
      const held = new pg.Client({ connectionString: links.writer.url, connectionTimeoutMillis: 500 });
      held.on('error', () => {});
      await expect(held.connect()).rejects.toThrow(/timeout/i);
      links.reset();
      expect(links.writer.proxy.toxics()).toEqual([]);
      await links.settled();
      const after = new pg.Client(links.writer.url);
      await after.connect();
      expect((await after.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      await after.end();
    } finally {
      await links.close();
    }
    expect(isAlive(links.pid)).toBe(false);
    expect(await listening(Number(new URL(links.writer.url).port))).toBe(false);
  });

  test("a schedule's fault on a link is in effect by the time its event is recorded", async () => {
    const links = await startLinks(topology);
    try {
      const client = new pg.Client(links.writer.url);
      await client.connect();
      pauseFor(links.pid, 200);
      const schedule = runSchedule([
        {
          at: 0,
          kind: 'latency 300ms',
          target: 'writer',
          apply: async () => links.writer.proxy.addToxic({ type: 'latency', latency: 300 }),
        },
      ]);
      const [event] = await schedule.done;
      expect(event!.error).toBeUndefined();
      expect(event!.durationMs).toBeGreaterThanOrEqual(150); // it waited for the stopped host
      const started = performance.now();
      await client.query('SELECT 1');
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
      await client.end();
    } finally {
      await links.close();
    }
  });
});
