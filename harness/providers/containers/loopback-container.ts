import { GenericContainer, type StartedNetwork } from 'testcontainers';
import { UsageError } from '../../errors.ts';

/**
 * DBPROOF_CONTAINER_CPU_SHARES: the CPU weight of dbproof's containers (Docker's
 * --cpu-shares, default 1024), e.g. 2 to run them below timing-sensitive work on the same
 * machine. A container's processes are the engine's children, so nice(1) on the command
 * that asked for them does not reach them.
 */
export function containerCpuShares(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.DBPROOF_CONTAINER_CPU_SHARES;
  if (value === undefined || value === '') return undefined;
  const shares = Number(value);
  if (!/^\d+$/.test(value) || shares < 2 || shares > 262_144) {
    throw new UsageError(
      `DBPROOF_CONTAINER_CPU_SHARES=${value} is not a CPU weight: give a whole number from 2 to 262144 (Docker's default is 1024), or unset it`,
    );
  }
  return shares;
}

/**
 * DBPROOF_CONTAINER_CGROUP_PARENT: the cgroup dbproof's containers are made under (Docker's
 * --cgroup-parent: a path such as `/dbproof-low` with the cgroupfs driver, a `….slice` with
 * systemd's), made beforehand by whoever sets it. On cgroup v1 a container's --cpu-shares
 * only ranks it among the containers of its parent, and Docker's own parent competes with
 * every process of the machine as one: a parent of low CPU weight is what puts containers
 * below timing-sensitive work.
 */
export function containerCgroupParent(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.DBPROOF_CONTAINER_CGROUP_PARENT;
  if (value === undefined || value === '') return undefined;
  if (!/^\/?[A-Za-z0-9_.@-]+(\/[A-Za-z0-9_.@-]+)*$/.test(value) || value.split('/').includes('..')) {
    throw new UsageError(
      `DBPROOF_CONTAINER_CGROUP_PARENT=${value} is not a cgroup: give a path such as /dbproof-low (or a systemd slice such as dbproof.slice), made beforehand, or unset it`,
    );
  }
  return value;
}

/**
 * A GenericContainer whose ports are published on 127.0.0.1 only, on host ports we
 * choose (so that a URL stays valid across kill/start: Docker would pick a new random
 * port on each start), and that stops with SIGINT (Postgres' fast shutdown) rather
 * than SIGTERM (its "smart" shutdown, which waits for every client to leave).
 */
export class LoopbackContainer extends GenericContainer {
  constructor(image: string) {
    super(image);
    const shares = containerCpuShares();
    if (shares !== undefined) this.hostConfig.CpuShares = shares;
    const parent = containerCgroupParent();
    if (parent !== undefined) this.hostConfig.CgroupParent = parent;
  }

  withLoopbackPort(containerPort: number, hostPort: number): this {
    this.withExposedPorts({ container: containerPort, host: hostPort });
    this.hostConfig.PortBindings = {
      ...this.hostConfig.PortBindings,
      [`${containerPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }],
    };
    return this;
  }

  /**
   * On `network` only, reachable there as `aliases`. (Testcontainers' withNetworkAliases
   * creates the container on Docker's default bridge and then connects it to the network
   * as well: every other container on that bridge could reach the node.)
   */
  withOnlyNetwork(network: StartedNetwork, aliases: string[]): this {
    this.withNetwork(network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network.getName()]: { Aliases: aliases } } };
    return this;
  }

  withStopSignal(signal: string): this {
    this.createOpts.StopSignal = signal;
    return this;
  }
}
