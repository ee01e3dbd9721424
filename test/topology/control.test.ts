import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import {
  connectTopology,
  serveTopology,
  type RemoteTopology,
  type TopologyControlServer,
} from '../../harness/topology/control/index.ts';
import { isAlive } from '../support/processes.ts';

let topology: Topology;
let server: TopologyControlServer;
let remote: RemoteTopology;

beforeAll(async () => {
  topology = await startTopology({ replicas: 1 });
  server = await serveTopology(topology);
  remote = connectTopology(server.handle);
});
afterAll(async () => {
  await server?.close();
  await topology?.stop();
});

test('a remote kill is carried out by the owner, and heal() starts the node again', async () => {
  const pid = topology.replicas[0]!.pid!;
  expect(remote.replicas[0]!.pid).toBe(pid);
  await remote.replicas[0]!.kill();
  expect(isAlive(pid)).toBe(false);
  expect(remote.replicas[0]!.pid).toBeUndefined();
  await remote.heal();
  expect(await remote.replicas[0]!.isInRecovery()).toBe(true);
  expect(topology.replicas[0]!.pid).not.toBe(pid);
});

test('remote lag, pause and resume behave as local ones', async () => {
  await remote.redis!.pause();
  await remote.redis!.resume();
  await remote.replicas[0]!.waitForCatchup(10_000);
  expect(await remote.replicas[0]!.lagBytes()).toBe(0);
});

test("the owner's errors reach the caller as they are", async () => {
  await expect(remote.primary.promote()).rejects.toThrow(/primary is already a primary/);
});

test('a request without the token is refused', async () => {
  const response = await fetch(`${server.handle.control.url}/nodes/replica1/kill`, { method: 'POST' });
  expect(response.status).toBe(401);
  expect(topology.replicas[0]!.pid && isAlive(topology.replicas[0]!.pid)).toBe(true);
});

test('the control endpoint listens on 127.0.0.1 only', () => {
  expect(new URL(server.handle.control.url).hostname).toBe('127.0.0.1');
});
