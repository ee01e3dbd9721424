import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PgNode, RedisNode, Topology } from '../types.ts';
import {
  NODE_OPERATIONS,
  type NodeOperation,
  type OperationRequest,
  type OperationResponse,
  type TopologyHandle,
} from './protocol.ts';

export interface TopologyControlServer {
  handle: TopologyHandle;
  close(): Promise<void>;
}

function nodesOf(topology: Topology): Map<string, PgNode | RedisNode> {
  const nodes = new Map<string, PgNode | RedisNode>([[topology.primary.name, topology.primary]]);
  for (const replica of topology.replicas) nodes.set(replica.name, replica);
  if (topology.redis) nodes.set('redis', topology.redis);
  return nodes;
}

/**
 * Puts back what a test did to the topology, so that the next test (maybe in another
 * file) finds every node up and caught up: thaws paused nodes, starts stopped ones.
 * A promotion is not undone: a test that promotes should own a topology of its own.
 */
export async function healTopology(topology: Topology): Promise<void> {
  for (const node of nodesOf(topology).values()) {
    await node.resume().catch(() => {});
    await node.start().catch(() => {}); // refused when already running: that is fine
  }
  await Promise.all(
    topology.replicas.map((r) => (r.role === 'replica' ? r.waitForCatchup(30_000).catch(() => {}) : undefined)),
  );
}

async function readBody(request: http.IncomingMessage): Promise<OperationRequest> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body ? (JSON.parse(body) as OperationRequest) : {};
}

function authorised(request: http.IncomingMessage, token: string): boolean {
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Serves node operations of `topology` on 127.0.0.1 to holders of a random token. */
export async function serveTopology(topology: Topology): Promise<TopologyControlServer> {
  const token = randomBytes(24).toString('hex');
  const nodes = nodesOf(topology);
  const server = http.createServer(async (request, response) => {
    const send = (status: number, body: OperationResponse | object) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (!authorised(request, token)) return send(401, { ok: false, error: 'missing or wrong control token' });
    const [, scope, name, operation] = (request.url ?? '').split('/');
    try {
      if (request.method === 'POST' && scope === 'heal') {
        await healTopology(topology);
        return send(200, { ok: true, value: null, pid: null, role: null });
      }
      const node = name ? nodes.get(name) : undefined;
      if (
        request.method !== 'POST' ||
        scope !== 'nodes' ||
        !node ||
        !NODE_OPERATIONS.includes(operation as NodeOperation)
      ) {
        return send(404, { ok: false, error: `no such operation: ${request.method} ${request.url}` });
      }
      if (operation === 'serverLogMark' || operation === 'serverLogSince') {
        const log = 'serverLog' in node ? node.serverLog : undefined;
        if (!log) return send(400, { ok: false, error: `${name} has no server log dbproof can read` });
        const { mark } = await readBody(request);
        const value = operation === 'serverLogMark' ? await log.mark() : await log.since(mark ?? 0);
        return send(200, { ok: true, value, pid: node.pid ?? null, role: 'role' in node ? node.role : null });
      }
      if (!(operation! in node)) return send(400, { ok: false, error: `${name} has no operation ${operation}` });
      const { timeoutMs } = await readBody(request);
      const run = (node as unknown as Record<string, (arg?: number) => Promise<unknown>>)[operation!]!;
      const value = await run.call(node, timeoutMs);
      send(200, { ok: true, value: value ?? null, pid: node.pid ?? null, role: 'role' in node ? node.role : null });
    } catch (error) {
      send(200, { ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    handle: { description: topology.describe(), control: { url: `http://127.0.0.1:${port}`, token } },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
