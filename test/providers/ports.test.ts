// Ports for the nodes dbproof starts come from below the kernel's ephemeral range: a port
// found free and bound a moment later by postgres or Docker cannot be taken meanwhile as the
// local port of an outgoing connection (a compose start failed with "address already in use"
// while other tests made connections).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { expect, test } from 'vitest';
import { freePorts } from '../../harness/providers/native/ports.ts';

const [ephemeralStart] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);

test('node ports are distinct, free on 127.0.0.1, and below the ephemeral range', async () => {
  const ports = await freePorts(20);
  expect(new Set(ports).size).toBe(20);
  for (const port of ports) {
    expect(port).toBeLessThan(ephemeralStart!);
    expect(port).toBeGreaterThanOrEqual(Math.max(1024, ephemeralStart! - 16_384));
  }
  // Each one can be listened on now.
  for (const port of ports.slice(0, 5)) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a port someone is listening on is never handed out', async () => {
  // Every port of a small slice of the range held: none of them comes back.
  const held = await freePorts(30);
  const servers = await Promise.all(
    held.map(
      (port) =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  try {
    const given = await freePorts(30);
    expect(given.filter((port) => held.includes(port))).toEqual([]);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
});
