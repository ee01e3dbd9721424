import { readFileSync } from 'node:fs';
import net from 'node:net';
import { InfrastructureError } from '../../errors.ts';

/**
 * Where a port for a node is drawn from: the 16 Ki ports below the kernel's ephemeral range.
 * A port found free is bound by postgres, redis-server or Docker only a moment later; one
 * from the ephemeral range (what `listen(0)` gives) can be taken meanwhile as the local port
 * of any outgoing connection on the machine, and was, under load ("address already in use").
 * Below that range only another listener can take it.
 */
function nodePortRange(): { from: number; to: number } | undefined {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (!start || start < 2048) return undefined;
    return { from: Math.max(1024, start - 16_384), to: start };
  } catch {
    return undefined; // not Linux: the kernel's pick
  }
}
const RANGE = nodePortRange();

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/** A port free on 127.0.0.1 right now, for a node dbproof starts (see `nodePortRange`). */
export async function freePort(): Promise<number> {
  if (RANGE) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await tryListen(RANGE.from + Math.floor(Math.random() * (RANGE.to - RANGE.from)));
      if (port !== undefined) return port;
    }
  }
  const port = await tryListen(0);
  if (port === undefined) throw new InfrastructureError('no free port on 127.0.0.1: is something holding every port?');
  return port;
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
