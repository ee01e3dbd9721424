import { DbproofError } from '../../errors.ts';
import type { NodeDescription, PgNode, PgRole, RedisNode, ServerLog, Topology } from '../types.ts';
import type { NodeOperation, OperationResponse, TopologyHandle } from './protocol.ts';

async function call(
  handle: TopologyHandle,
  path: string,
  body: object = {},
): Promise<OperationResponse & { ok: true }> {
  const response = await fetch(`${handle.control.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${handle.control.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const result = (await response.json()) as OperationResponse;
  if (!result.ok) throw new DbproofError(result.error);
  return result;
}

class RemoteNode {
  pid: number | undefined;
  protected currentRole: PgRole;
  readonly name: string;
  readonly port: number;

  constructor(
    protected readonly handle: TopologyHandle,
    description: NodeDescription,
    pid: number | undefined,
  ) {
    this.name = description.name;
    this.port = description.port;
    this.pid = pid;
    this.currentRole = description.name === 'primary' ? 'primary' : 'replica';
  }

  protected async operate(operation: NodeOperation, body: object = {}): Promise<unknown> {
    const result = await call(this.handle, `/nodes/${this.name}/${operation}`, body);
    this.pid = result.pid ?? undefined;
    if (result.role) this.currentRole = result.role;
    return result.value;
  }

  kill = () => this.operate('kill').then(() => {});
  stop = () => this.operate('stop').then(() => {});
  start = () => this.operate('start').then(() => {});
  restart = () => this.operate('restart').then(() => {});
  pause = () => this.operate('pause').then(() => {});
  resume = () => this.operate('resume').then(() => {});
}

class RemotePgNode extends RemoteNode implements PgNode {
  readonly url: string;
  readonly adminUrl: string;
  constructor(handle: TopologyHandle, description: NodeDescription, appUrl: string, pid: number | undefined) {
    super(handle, description, pid);
    this.url = appUrl;
    this.adminUrl = description.url;
  }
  get role(): PgRole {
    return this.currentRole;
  }
  promote = () => this.operate('promote').then(() => {});
  isInRecovery = () => this.operate('isInRecovery') as Promise<boolean>;
  lagBytes = () => this.operate('lagBytes') as Promise<number>;
  waitForCatchup = (timeoutMs?: number) => this.operate('waitForCatchup', { timeoutMs }).then(() => {});
  /** Read by the owner, where its provider can (not on an external cluster). */
  readonly serverLog: ServerLog | undefined =
    this.handle.description.provider === 'external'
      ? undefined
      : {
          mark: () => this.operate('serverLogMark') as Promise<number>,
          since: (mark: number) => this.operate('serverLogSince', { mark }) as Promise<string>,
        };
}

class RemoteRedisNode extends RemoteNode implements RedisNode {
  override readonly name = 'redis' as const;
  readonly url: string;
  constructor(handle: TopologyHandle, description: NodeDescription, pid: number | undefined) {
    super(handle, description, pid);
    this.url = description.url;
  }
}

export interface RemoteTopology extends Topology {
  /** Resumes paused nodes and starts stopped ones (the vitest fixture calls it after each test). */
  heal(): Promise<void>;
}

/**
 * A Topology whose node operations are carried out by the process that owns it.
 * `stop()` does nothing here: the owner stops the topology when the run ends.
 */
export function connectTopology(handle: TopologyHandle): RemoteTopology {
  const { description } = handle;
  const pidOf = (i: number) => description.pids[i];
  const pgNodes = description.nodes.filter((n) => n.kind === 'postgres');
  const appUrls = [description.primary, ...description.replicas];
  const [primary, ...replicas] = pgNodes.map((n, i) => new RemotePgNode(handle, n, appUrls[i]!, pidOf(i)));
  const redisDescription = description.nodes.find((n) => n.kind === 'redis');
  const redis = redisDescription ? new RemoteRedisNode(handle, redisDescription, pidOf(pgNodes.length)) : undefined;
  return {
    provider: description.provider,
    primary: primary!,
    replicas,
    redis,
    adminUrl: description.admin,
    pids: () => [primary!, ...replicas, redis].map((n) => n?.pid).filter((p): p is number => p !== undefined),
    describe: () => description,
    stop: async () => {},
    heal: async () => {
      await call(handle, '/heal');
    },
  };
}
