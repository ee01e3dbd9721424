import { DbproofError } from '../../errors.ts';
import { queryRows } from '../../pg/client.ts';
import { lagBehind, promoteAndWait, queryRecovery, waitForReplayed } from '../../topology/replication.ts';
import type { PgNode, PgRole, RedisNode } from '../../topology/types.ts';
import { pingRedis } from '../native/redis-node.ts';
import type { DockerControl } from './docker-node.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` stops throwing; the last error says why it never did. */
async function until(check: () => Promise<unknown>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new DbproofError(`${what} was not ready after ${timeoutMs} ms: ${(error as Error).message}`);
    }
    await sleep(50);
  }
}

/** A Postgres node in a container; process faults are Docker operations, the rest is SQL. */
export class ContainerPgNode implements PgNode {
  #role: PgRole;
  #pid: number | undefined;

  constructor(
    readonly name: string,
    role: PgRole,
    readonly url: string,
    readonly adminUrl: string,
    readonly port: number,
    readonly docker: DockerControl,
    private readonly upstream: () => PgNode | undefined,
    readonly networkId: string,
  ) {
    this.#role = role;
  }

  get role(): PgRole {
    return this.#role;
  }

  /** The container's main process (postgres) as the host sees it. */
  get pid(): number | undefined {
    return this.#pid;
  }

  async refreshPid(): Promise<void> {
    this.#pid = (await this.docker.state()).pid;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    await until(() => queryRows(this.adminUrl, 'SELECT 1', [], 1000), this.name, timeoutMs);
    await this.refreshPid();
  }

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

  async promote(): Promise<void> {
    if (this.#role === 'primary' && !(await this.isInRecovery())) throw new DbproofError(`${this.name} is already a primary`);
    await promoteAndWait(this.adminUrl);
    this.#role = 'primary';
  }

  isInRecovery(): Promise<boolean> {
    return queryRecovery(this.adminUrl);
  }

  async lagBytes(): Promise<number> {
    const upstream = this.upstream();
    if (this.#role === 'primary' || !upstream) return 0;
    return lagBehind(upstream.adminUrl, this.adminUrl, this.name);
  }

  async waitForCatchup(timeoutMs = 30_000): Promise<void> {
    const upstream = this.upstream();
    if (this.#role === 'primary' || !upstream) return;
    await waitForReplayed(upstream.adminUrl, this.adminUrl, this.name, timeoutMs);
  }
}

export class ContainerRedisNode implements RedisNode {
  readonly name = 'redis' as const;
  #pid: number | undefined;

  constructor(
    readonly url: string,
    readonly port: number,
    readonly docker: DockerControl,
  ) {}

  get pid(): number | undefined {
    return this.#pid;
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    await until(() => pingRedis(this.url, 1000), 'redis', timeoutMs);
    this.#pid = (await this.docker.state()).pid;
  }

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
