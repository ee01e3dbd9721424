import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { InfrastructureError } from '../../errors.ts';
import { postgresUrl } from '../../pg/client.ts';
import { generatePassword, scramVerifier } from '../../pg/scram.ts';
import { Watchdog } from '../../process/watchdog.ts';
import { waitForReplayed, waitForStreaming } from '../../topology/replication.ts';
import type { ResolvedTopologySpec } from '../../topology/spec.ts';
import { describeTopology } from '../../topology/describe.ts';
import type { Topology, TopologyDescription } from '../../topology/types.ts';
import { freePorts } from '../native/ports.ts';
import { redisUrl } from '../native/redis-node.ts';
import { DEFAULT_SETTINGS } from '../native/settings.ts';
import { hostAddressOnDefaultBridge } from './bridge.ts';
import { DOCKER_ENGINE_PROCESSES, DockerControl, removeContainersLabelled } from './docker-node.ts';
import { postgresImage, redisImage } from './images.ts';
import { containerCgroupParent, containerCpuShares, LoopbackContainer } from './loopback-container.ts';
import { ContainerPgNode, ContainerRedisNode } from './nodes.ts';
import { ARCHIVE_MOUNT, ContainersRecovery, recoveryDir } from './recovery.ts';

// dbproof removes its containers itself (the watchdog); Ryuk's image cannot be pulled where there is no registry.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const NODE_SCRIPT = readFileSync(fileURLToPath(new URL('./node.sh', import.meta.url)), 'utf8');
const READY_TIMEOUT_MS = 120_000;
/** On every container of a topology, with the topology's own id: what the watchdog removes if dbproof dies while they start. */
const TOPOLOGY_LABEL = 'org.dbproof.topology';

function settingArgs(
  spec: ResolvedTopologySpec,
  name: string,
  role: 'primary' | 'replica',
  replicaNames: string[],
): string[] {
  // listen_addresses and the socket directory are the script's; the rest as for native nodes.
  const { listen_addresses: _listen, ...defaults } = DEFAULT_SETTINGS;
  const settings: Record<string, string | number | boolean> = { ...defaults, cluster_name: name };
  if (role === 'primary' && spec.synchronous && replicaNames.length > 0)
    settings.synchronous_standby_names = `ANY ${replicaNames.length} (${replicaNames.join(', ')})`;
  Object.assign(settings, spec.postgres.settings);
  return Object.entries(settings).flatMap(([k, v]) => [
    '-c',
    `${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`,
  ]);
}

class ContainersTopology implements Topology {
  readonly provider = 'containers' as const;
  readonly workedOnBy = DOCKER_ENGINE_PROCESSES;
  #stopped = false;

  constructor(
    readonly primary: ContainerPgNode,
    readonly replicas: ContainerPgNode[],
    readonly redis: ContainerRedisNode | undefined,
    readonly network: StartedNetwork,
    private readonly containers: StartedTestContainer[],
    private readonly watchdog: Watchdog,
    readonly recovery: ContainersRecovery,
    private readonly recoveryDir: string,
  ) {}

  get adminUrl(): string {
    return this.primary.adminUrl;
  }

  pids(): number[] {
    return [this.primary, ...this.replicas, this.redis].map((n) => n?.pid).filter((p): p is number => p !== undefined);
  }

  describe(): TopologyDescription {
    const container = (n: { docker: { containerId: string } }) => ({ container: n.docker.containerId });
    return describeTopology(
      'containers',
      { primary: this.primary, replicas: this.replicas, redis: this.redis, pids: this.pids() },
      { postgres: container, redis: container },
    );
  }

  /** Container ids and the network id, for tests that check nothing is left. */
  dockerIds(): { containers: string[]; network: string } {
    return { containers: this.containers.map((c) => c.getId()), network: this.network.getId() };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await stopAll(this.containers, this.network, this.watchdog);
    rmSync(this.recoveryDir, { recursive: true, force: true });
  }
}

async function stopAll(
  containers: StartedTestContainer[],
  network: StartedNetwork | undefined,
  watchdog: Watchdog,
): Promise<void> {
  await Promise.all(containers.map((c) => c.stop({ remove: true, removeVolumes: true, timeout: 1 }).catch(() => {})));
  if (network) await network.stop().catch(() => {});
  await watchdog.close(); // anything the calls above missed, the watchdog removes
}

/**
 * The same topology as the native provider, as containers on a network of its own,
 * all started at once; ports are published on 127.0.0.1 only. From an image with a
 * pristine data directory (scripts/build-local-images.sh), the primary only sets this
 * run's passwords into it and each replica starts as a standby of the same state, as
 * the native provider's do; from any other image the primary runs initdb and each
 * replica takes a pg_basebackup from it over that network (node.sh decides).
 */
export async function startContainersTopology(spec: ResolvedTopologySpec): Promise<Topology> {
  const pgImage = postgresImage(spec.images?.postgres);
  const redisImg = redisImage(spec.images?.redis);
  // A bad DBPROOF_CONTAINER_CPU_SHARES or _CGROUP_PARENT is refused before anything starts (each container reads them).
  containerCpuShares();
  containerCgroupParent();
  const watchdog = Watchdog.start();
  const containers: StartedTestContainer[] = [];
  let network: StartedNetwork | undefined;
  // Registered before they exist, so that a container or the network Docker is still
  // creating when this process dies is removed all the same (by label, by name).
  const topologyId = randomBytes(6).toString('hex');
  const networkName = `dbproof-${topologyId}`;
  const labels = { [TOPOLOGY_LABEL]: topologyId };
  watchdog.watchLabel(`${TOPOLOGY_LABEL}=${topologyId}`);
  watchdog.watchNetwork(networkName);
  // The WAL archive (mounted in the primary: a container's mounts are fixed at its creation) and
  // the backup of a drill, on the host.
  const recovery = recoveryDir(process.env.DBPROOF_TMPDIR ?? tmpdir(), topologyId, watchdog);
  try {
    // Both settled before going on, so that a network created while the other call failed is still removed.
    const [networkStarted, gatewayFound] = await Promise.allSettled([
      new Network({ nextUuid: () => networkName }).start().then((started) => {
        network = started;
        watchdog.watchNetwork(started.getId());
        return started;
      }),
      hostAddressOnDefaultBridge(),
    ]);
    if (networkStarted.status === 'rejected') throw networkStarted.reason;
    if (gatewayFound.status === 'rejected') throw gatewayFound.reason;
    const topologyNetwork = networkStarted.value;
    const bridgeGateway = gatewayFound.value;
    const replicaNames = Array.from({ length: spec.replicas }, (_, i) => `replica${i + 1}`);
    const [primaryPort, redisPort, ...replicaPorts] = await freePorts(spec.replicas + 2);
    const passwords = {
      admin: generatePassword(),
      app: generatePassword(),
      replication: generatePassword(),
      redis: generatePassword(),
    };

    // A file the node script moves to where only postgres reads it: a clear password is never in the environment.
    const replicationPassfile = {
      content: `*:*:*:replicator:${passwords.replication}\n`,
      target: '/dbproof/replication.pgpass',
      mode: 0o600,
    };
    const pgContainer = (name: string, role: 'primary' | 'replica', port: number) =>
      new LoopbackContainer(pgImage)
        .withLabels(labels)
        .withOnlyNetwork(topologyNetwork, [name])
        .withLoopbackPort(5432, port)
        .withStopSignal('SIGINT')
        .withBindMounts(role === 'primary' ? [{ source: recovery.archiveDir, target: ARCHIVE_MOUNT }] : [])
        // The script as an argument: copying a file in costs a mount of the container's file
        // system before it can start (~0.2 s on the primary's critical path); only secrets are copied.
        .withCopyContentToContainer(role === 'primary' ? [] : [replicationPassfile])
        .withEntrypoint(['/bin/sh', '-c', NODE_SCRIPT, 'node.sh'])
        .withCommand([role, ...settingArgs(spec, name, role, replicaNames)])
        .withEnvironment({
          // Each node writes its own pg_hba.conf (a standby from the pristine state has no copy of the primary's).
          ...(bridgeGateway ? { DBPROOF_BRIDGE_GATEWAY: bridgeGateway } : {}),
          ...(role === 'primary'
            ? {
                DBPROOF_ADMIN_VERIFIER: scramVerifier(passwords.admin),
                DBPROOF_APP_VERIFIER: scramVerifier(passwords.app),
                DBPROOF_REPLICATION_VERIFIER: scramVerifier(passwords.replication),
              }
            : {
                DBPROOF_PRIMARY_HOST: 'primary',
                DBPROOF_NODE_NAME: name,
                // Every node starts now from the same image: where it holds a pristine state, a copy is a base backup.
                DBPROOF_REPLICA_SOURCE: 'pristine',
              }),
        })
        .withWaitStrategy(Wait.forLogMessage('dbproof: starting postgres'))
        .withStartupTimeout(READY_TIMEOUT_MS);

    const redisContainer = () =>
      new LoopbackContainer(redisImg)
        .withLabels(labels)
        .withOnlyNetwork(topologyNetwork, ['redis'])
        .withLoopbackPort(6379, redisPort!)
        .withCopyContentToContainer([
          {
            content: `bind * -::*\nport 6379\nrequirepass "${passwords.redis}"\nsave ""\nappendonly no\nprotected-mode no\n`,
            target: '/dbproof/redis.conf',
            mode: 0o600,
          },
        ])
        .withEntrypoint(['redis-server', '/dbproof/redis.conf'])
        .withCommand([])
        .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
        .withStartupTimeout(READY_TIMEOUT_MS);

    // Each node is asked whether it is ready as soon as its own container runs (not once the
    // slowest has started); once one fails, the others stop waiting.
    const siblingFailed = new AbortController();
    const started = async (container: LoopbackContainer): Promise<StartedTestContainer> => {
      const running = await container.start();
      // Registered as soon as it exists, even if a sibling fails.
      containers.push(running);
      watchdog.watchContainer(running.getId());
      return running;
    };
    let primary: ContainerPgNode | undefined;
    const pgNode = async (name: string, role: 'primary' | 'replica', port: number): Promise<ContainerPgNode> => {
      const container = await started(pgContainer(name, role, port));
      const node = new ContainerPgNode(
        name,
        role,
        postgresUrl({ user: 'app', password: passwords.app, port, database: 'app' }),
        postgresUrl({ user: 'dbproof', password: passwords.admin, port, database: 'postgres' }),
        port,
        new DockerControl(name, container.getId()),
        (): ContainerPgNode | undefined => (role === 'replica' ? primary : undefined),
        topologyNetwork.getId(),
      );
      await node.ready(READY_TIMEOUT_MS, siblingFailed.signal);
      return node;
    };
    const redisNode = async (): Promise<ContainerRedisNode> => {
      const container = await started(redisContainer());
      const node = new ContainerRedisNode(
        redisUrl(redisPort!, passwords.redis),
        redisPort!,
        new DockerControl('redis', container.getId()),
      );
      await node.ready(READY_TIMEOUT_MS, siblingFailed.signal);
      return node;
    };

    const startingPrimary = pgNode('primary', 'primary', primaryPort!);
    const startingReplicas = replicaNames.map((name, i) => pgNode(name, 'replica', replicaPorts[i]!));
    const startingRedis = spec.redis ? redisNode() : Promise.resolve(undefined);
    let failure: { error: unknown } | undefined;
    // Every start settled before going on (stopAll must see every container), the first failure reported.
    // On that failure the others stop waiting, and their containers go (a node still starting
    // would otherwise wait for its start-up time-out: a replica for a primary that never comes).
    await Promise.allSettled(
      [startingPrimary, ...startingReplicas, startingRedis].map((starting) =>
        starting.catch(async (error: unknown) => {
          if (failure) return;
          failure = { error };
          siblingFailed.abort();
          await removeContainersLabelled(`${TOPOLOGY_LABEL}=${topologyId}`).catch(() => {});
        }),
      ),
    );
    if (failure) throw failure.error;
    primary = await startingPrimary;
    const replicas = await Promise.all(startingReplicas);
    const redis = await startingRedis;
    await waitForStreaming(primary.adminUrl, replicaNames, READY_TIMEOUT_MS);
    await Promise.all(replicas.map((r) => waitForReplayed(primary.adminUrl, r.adminUrl, r.name, READY_TIMEOUT_MS)));
    const restoring = new ContainersRecovery({
      primary,
      image: pgImage,
      network: topologyNetwork,
      labels,
      watchdog,
      containers,
      ...recovery,
      nodeScript: NODE_SCRIPT,
      replicationPassword: passwords.replication,
      settingArgs: settingArgs(spec, 'primary', 'primary', replicaNames),
      url: primary.url,
      adminUrl: primary.adminUrl,
    });
    return new ContainersTopology(
      primary,
      replicas,
      redis,
      topologyNetwork,
      containers,
      watchdog,
      restoring,
      recovery.dir,
    );
  } catch (error) {
    await stopAll(containers, network, watchdog);
    rmSync(recovery.dir, { recursive: true, force: true });
    const message = error instanceof Error ? error.message : String(error);
    if (/connect ENOENT|ECONNREFUSED.*docker|Could not find a working container runtime/i.test(message)) {
      throw new InfrastructureError(
        "no Docker engine answers; start one (e.g. `apt-get install -y docker.io && (dockerd >/var/log/dockerd.log 2>&1 &)`) or use provider 'native'",
        error,
      );
    }
    throw error instanceof InfrastructureError
      ? error
      : new InfrastructureError(`could not start the containers topology: ${message}`, error);
  }
}
