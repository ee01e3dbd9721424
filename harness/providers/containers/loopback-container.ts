import { GenericContainer, type StartedNetwork } from 'testcontainers';

/**
 * A GenericContainer whose ports are published on 127.0.0.1 only, on host ports we
 * choose (so that a URL stays valid across kill/start: Docker would pick a new random
 * port on each start), and that stops with SIGINT (Postgres' fast shutdown) rather
 * than SIGTERM (its "smart" shutdown, which waits for every client to leave).
 */
export class LoopbackContainer extends GenericContainer {
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
