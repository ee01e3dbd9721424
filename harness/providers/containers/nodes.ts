import { DbproofError } from '../../errors.ts';
import { pollUntil } from '../../wait.ts';
import { queryRows } from '../../pg/client.ts';
import { SqlPgNode } from '../../topology/sql-node.ts';
import type { PgNode, PgRole, RedisNode, ServerLog } from '../../topology/types.ts';
import { pingRedis } from '../native/redis-node.ts';
import type { DockerControl } from './docker-node.ts';
import { containerServerLog } from './server-log.ts';

/**
 * Resolves when `check` stops throwing; the last error says why it never did. Gives up
 * at once when `abandon` is aborted (a sibling node failed to start: no use waiting).
 */
async function until(
  check: () => Promise<unknown>,
  what: string,
  timeoutMs = 60_000,
  abandon?: AbortSignal,
): Promise<void> {
  let lastError: unknown;
  const ready = await pollUntil(
    async () => {
      abandon?.throwIfAborted();
      try {
        await check();
        return true;
      } catch (error) {
        lastError = error;
        return false;
      }
    },
    { timeoutMs, intervalMs: 50 },
  );
  if (!ready) throw new DbproofError(`${what} was not ready after ${timeoutMs} ms: ${(lastError as Error).message}`);
}

/** kill/stop/start/restart/pause/resume as Docker operations on the node's container. */
abstract class DockerBackedNode {
  #pid: number | undefined;

  constructor(readonly docker: DockerControl) {}

  /** The container's main process as the host sees it. */
  get pid(): number | undefined {
    return this.#pid;
  }

  protected async refreshPid(): Promise<void> {
    this.#pid = (await this.docker.state()).pid;
  }

  abstract ready(timeoutMs?: number, abandon?: AbortSignal): Promise<void>;

  async kill(): Promise<void> {
    await this.docker.kill();
    this.#pid = undefined;
  }

  async stop(): Promise<void> {
    await this.docker.stop();
    this.#pid = undefined;
  }

  async start(): Promise<void> {
    await this.docker.start();
    await this.ready();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  pause(): Promise<void> {
    return this.docker.pause();
  }

  resume(): Promise<void> {
    return this.docker.resume();
  }
}

/** A Postgres node in a container; process faults are Docker operations, the rest is SQL. */
export class ContainerPgNode extends DockerBackedNode implements PgNode {
  readonly #sql: SqlOperations;
  readonly serverLog: ServerLog;

  constructor(
    readonly name: string,
    role: PgRole,
    readonly url: string,
    readonly adminUrl: string,
    readonly port: number,
    docker: DockerControl,
    upstream: () => PgNode | undefined,
    readonly networkId: string,
  ) {
    super(docker);
    this.#sql = new SqlOperations(name, role, adminUrl, upstream);
    this.serverLog = containerServerLog(docker.containerId);
  }

  get role(): PgRole {
    return this.#sql.role;
  }

  async ready(timeoutMs = 60_000, abandon?: AbortSignal): Promise<void> {
    // The container runs already (start() came first): its PID is known while the server starts.
    await Promise.all([
      until(() => queryRows(this.adminUrl, 'SELECT 1', [], 1000), this.name, timeoutMs, abandon),
      this.refreshPid(),
    ]);
  }

  /**
   * A partition: takes the node off the topology network, so it loses its primary (or
   * its replicas), while the host still reaches it through its published port (it is
   * moved to Docker's default bridge): a test can watch it fall behind from outside.
   */
  disconnect(): Promise<void> {
    return this.docker.disconnect(this.networkId);
  }

  reconnect(): Promise<void> {
    return this.docker.reconnect(this.networkId, [this.name]);
  }

  promote = () => this.#sql.promote();
  isInRecovery = () => this.#sql.isInRecovery();
  lagBytes = () => this.#sql.lagBytes();
  waitForCatchup = (timeoutMs?: number) => this.#sql.waitForCatchup(timeoutMs);
}

/** SqlPgNode as a part (a container node already extends DockerBackedNode). */
class SqlOperations extends SqlPgNode {}

export class ContainerRedisNode extends DockerBackedNode implements RedisNode {
  readonly name = 'redis' as const;

  constructor(
    readonly url: string,
    readonly port: number,
    docker: DockerControl,
  ) {
    super(docker);
  }

  async ready(timeoutMs = 30_000, abandon?: AbortSignal): Promise<void> {
    await Promise.all([until(() => pingRedis(this.url, 1000), 'redis', timeoutMs, abandon), this.refreshPid()]);
  }
}
