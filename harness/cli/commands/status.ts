import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { queryRows } from '../../pg/client.ts';
import { isAlive } from '../../process/node-processes.mjs';
import { pingRedis } from '../../providers/native/redis-node.ts';
import { redact } from '../../redact.ts';
import { replicationStatus, type ReplicationRow } from '../../topology/replication.ts';
import type { NodeDescription, TopologyDescription } from '../../topology/types.ts';
import { resolveTopologySpec } from '../../topology/spec.ts';
import { providerFrom } from './topology-options.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';
import { ownerAlive, readState, stateFile } from '../state.ts';

export const STATUS_HELP = `dbproof status [--json] [--provider compose]

Shows each node of the topology \`dbproof up\` started here: role, PID, port,
up/down, replication state and lag in bytes. Exit 0 when every node is up,
1 when one is down or no topology is up. --provider compose reports the compose
topology \`dbproof up --provider compose\` started here, else the one brought up
from dbproof's docker-compose.yml with \`docker compose up -d\`.`;

export interface NodeStatus {
  name: string;
  kind: 'postgres' | 'redis';
  role: 'primary' | 'replica' | 'redis' | null;
  pid: number | null;
  port: number;
  up: boolean;
  /** A standby's WAL receiver state ('streaming', …), null when it has none. */
  replication: string | null;
  /** Bytes the primary has written that this standby has not replayed, from the primary's view. */
  lagBytes: number | null;
  url: string;
}

/** The node's main PID: from its PID file (native) or from Docker (containers, compose). */
function nodePid(node: NodeDescription): number | null {
  if (node.container) {
    try {
      const pid = Number(
        execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', node.container], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim(),
      );
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }
  return pidFromFile(node.pidFile);
}

function pidFromFile(file: string | undefined): number | null {
  if (!file || !existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function postgresStatus(node: NodeDescription, primaryView: ReplicationRow[]): Promise<NodeStatus> {
  const pid = nodePid(node);
  const base: NodeStatus = {
    name: node.name,
    kind: 'postgres',
    role: null,
    pid,
    port: node.port,
    up: false,
    replication: null,
    lagBytes: null,
    url: redact(node.url),
  };
  if (pid !== null && !isAlive(pid)) return { ...base, pid: null };
  try {
    const [row] = await queryRows<{ recovery: boolean; receiver: string | null }>(
      node.url,
      'SELECT pg_is_in_recovery() AS recovery, (SELECT status FROM pg_stat_wal_receiver) AS receiver',
      [],
      1500,
    );
    const role = row!.recovery ? 'replica' : 'primary';
    const view = primaryView.find((r) => r.application_name === node.name);
    return {
      ...base,
      up: true,
      role,
      replication: role === 'replica' ? (row!.receiver ?? 'disconnected') : null,
      lagBytes: role === 'replica' && view?.lag_bytes ? Number(view.lag_bytes) : null,
    };
  } catch {
    // Running but not answering: frozen (paused) or still starting.
    return { ...base, replication: pid !== null ? 'not answering' : null };
  }
}

async function redisStatus(node: NodeDescription): Promise<NodeStatus> {
  const pid = nodePid(node);
  let up = false;
  try {
    await pingRedis(node.url, 1000);
    up = true;
  } catch {
    up = false;
  }
  return {
    name: node.name,
    kind: 'redis',
    role: 'redis',
    pid: pid !== null && isAlive(pid) ? pid : null,
    port: node.port,
    up,
    replication: null,
    lagBytes: null,
    url: redact(node.url),
  };
}

export async function status(argv: string[]): Promise<number> {
  const { options } = parseArgs('status', argv, { json: { type: 'boolean' }, provider: { type: 'string' } });
  if (options.help) {
    console.log(STATUS_HELP);
    return 0;
  }
  if (options.provider !== undefined && providerFrom(options) === 'compose') {
    // A stack dbproof started here is in the state file (with its passwords); else the one
    // a user brought up with `docker compose up -d`: described, nothing started.
    const state = readState();
    if (state && ownerAlive(state) && state.topology.provider === 'compose') {
      return report(state.topology, { ownerPid: state.ownerPid, startedAt: state.startedAt }, Boolean(options.json));
    }
    const { describeUserStack } = await import('../../providers/compose/provider.ts');
    const described = await describeUserStack(resolveTopologySpec({ provider: 'compose' }));
    if (described) return report(described, { ownerPid: null, startedAt: null }, Boolean(options.json));
    if (options.json) printJson({ up: false, nodes: [] });
    else
      console.log(
        `no compose topology is up: none that \`dbproof up --provider compose\` started here (${stateFile()}), none from \`docker compose up -d\`; start one with \`dbproof up --provider compose --detach\``,
      );
    return 1;
  }
  const state = readState();
  if (!state || !ownerAlive(state)) {
    if (options.json) printJson({ up: false, nodes: [] });
    else console.log(`no topology is up here (${stateFile()}); start one with \`dbproof up --detach\``);
    return 1;
  }
  return report(state.topology, { ownerPid: state.ownerPid, startedAt: state.startedAt }, Boolean(options.json));
}

async function report(
  topology: TopologyDescription,
  owner: { ownerPid: number | null; startedAt: string | null },
  json: boolean,
): Promise<number> {
  const primaryNode = topology.nodes.find((n) => n.name === 'primary');
  const primaryView = primaryNode ? await replicationStatus(primaryNode.url, 1500).catch(() => []) : [];
  const nodes = await Promise.all(
    topology.nodes.map((n) => (n.kind === 'redis' ? redisStatus(n) : postgresStatus(n, primaryView))),
  );
  const allUp = nodes.every((n) => n.up);
  if (json) {
    printJson({ up: allUp, provider: topology.provider, ownerPid: owner.ownerPid, startedAt: owner.startedAt, nodes });
  } else {
    const rows = [
      ['NODE', 'ROLE', 'PID', 'PORT', 'STATE', 'REPLICATION', 'LAG'],
      ...nodes.map((n) => [
        n.name,
        n.role ?? '-',
        String(n.pid ?? '-'),
        String(n.port),
        n.up ? 'up' : 'down',
        n.replication ?? '-',
        n.lagBytes === null ? '-' : `${n.lagBytes} B`,
      ]),
    ];
    const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
    for (const row of rows)
      console.log(
        row
          .map((cell, col) => cell.padEnd(widths[col]!))
          .join('  ')
          .trimEnd(),
      );
  }
  return allUp ? 0 : 1;
}
