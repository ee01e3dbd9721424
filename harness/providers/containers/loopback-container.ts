import { GenericContainer, type StartedNetwork } from 'testcontainers';
import { UsageError } from '../../errors.ts';

/**
 * DBPROOF_CONTAINER_CPU_SHARES: the CPU weight of dbproof's containers (Docker's
 * --cpu-shares, default 1024), e.g. 2 to run them below timing-sensitive work on the same
 * machine. A container's processes are the engine's children, so nice(1) on the command
 * that asked for them does not reach them: `npm test`'s background lane sets this.
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
