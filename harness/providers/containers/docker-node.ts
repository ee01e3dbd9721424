import { getContainerRuntimeClient } from 'testcontainers';
import { DbproofError } from '../../errors.ts';
import { pollUntil } from '../../wait.ts';

/**
 * The Docker engine's own processes, which carry a container topology's work: its API calls
 * (pause, kill, inspect), and every byte to a published port (the userland proxy).
 */
export const DOCKER_ENGINE_PROCESSES: readonly string[] = [
  'dockerd',
  'containerd',
  // containerd-shim-runc-v2, as /proc names it: a command name is cut to 15 characters.
  'containerd-shim',
  'docker-proxy',
];

/**
 * Removes every container carrying `label` (key=value) at once, running or still
 * starting: a topology that failed to start does not wait for its other nodes to.
 */
export async function removeContainersLabelled(label: string): Promise<void> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const found = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    found.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
}

/**
 * Process-level faults as Docker operations on one container. A stopped or killed
 * container keeps its file system, so start() resumes from its data directory.
 */
export class DockerControl {
  constructor(
    readonly name: string,
    readonly containerId: string,
  ) {}

  async #container() {
    return (await getContainerRuntimeClient()).container.getById(this.containerId);
  }

  async state(): Promise<{ running: boolean; paused: boolean; pid: number | undefined }> {
    const info = await (await this.#container()).inspect();
    return { running: info.State.Running, paused: info.State.Paused, pid: info.State.Pid || undefined };
  }

  async kill(): Promise<void> {
    await this.#require('kill', (s) => s.running);
    await (await this.#container()).kill({ signal: 'SIGKILL' });
    await this.#until((s) => !s.running);
  }

  async stop(): Promise<void> {
    await this.#require('stop', (s) => s.running);
    const container = await this.#container();
    if ((await this.state()).paused) await container.unpause();
    await container.stop({ t: 30 });
  }

  async start(): Promise<void> {
    await this.#require('start', (s) => !s.running, 'it is already running');
    await (await this.#container()).start();
  }

  async pause(): Promise<void> {
    await this.#require('pause', (s) => s.running && !s.paused);
    await (await this.#container()).pause();
  }

  async resume(): Promise<void> {
    await this.#require('resume', (s) => s.paused, 'it is not paused');
    await (await this.#container()).unpause();
  }

  /**
   * Takes the container off the topology network (a partition) and puts it on Docker's
   * default bridge, so that its published port still reaches it from the host. (Docker
   * 20.10 does that by itself when a container loses its last network; doing it
   * explicitly makes the behaviour the same on every engine.)
   */
  async disconnect(networkId: string): Promise<void> {
    const client = await getContainerRuntimeClient();
    await client.network.getById(networkId).disconnect({ Container: this.containerId, Force: true });
    const networks = (await (await this.#container()).inspect()).NetworkSettings.Networks ?? {};
    if (!('bridge' in networks)) await client.network.getById('bridge').connect({ Container: this.containerId });
  }

  async reconnect(networkId: string, aliases: string[]): Promise<void> {
    const client = await getContainerRuntimeClient();
    await client.network
      .getById(networkId)
      .connect({ Container: this.containerId, EndpointConfig: { Aliases: aliases } });
    await client.network
      .getById('bridge')
      .disconnect({ Container: this.containerId })
      .catch(() => {});
  }

  async #require(
    operation: string,
    ok: (s: Awaited<ReturnType<DockerControl['state']>>) => boolean,
    why = 'it is not running (start() it first)',
  ): Promise<void> {
    if (!ok(await this.state())) throw new DbproofError(`cannot ${operation} ${this.name}: ${why}`);
  }

  async #until(done: (s: Awaited<ReturnType<DockerControl['state']>>) => boolean, timeoutMs = 15_000): Promise<void> {
    const reached = await pollUntil(async () => done(await this.state()), { timeoutMs, intervalMs: 20 });
    if (!reached)
      throw new DbproofError(`${this.name}: Docker did not reach the expected state within ${timeoutMs} ms`);
  }
}
