import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InfrastructureError } from '../../errors.ts';
import { packageFile } from '../../package-files.ts';
import { postgresUrl } from '../../pg/client.ts';
import { generatePassword } from '../../pg/scram.ts';
import { Watchdog } from '../../process/watchdog.ts';
import { describeTopology } from '../../topology/describe.ts';
import { waitForStreaming } from '../../topology/replication.ts';
import type { ResolvedTopologySpec } from '../../topology/spec.ts';
import type { Topology, TopologyDescription } from '../../topology/types.ts';
import { hostAddressOnDefaultBridge } from '../containers/bridge.ts';
import { DOCKER_ENGINE_PROCESSES, DockerControl } from '../containers/docker-node.ts';
import { ContainerPgNode, ContainerRedisNode } from '../containers/nodes.ts';
import { freePorts } from '../native/ports.ts';
import { redisUrl } from '../native/redis-node.ts';
import { composeCommand, runCompose } from './compose-cli.ts';
import { requireDockerEngine } from './docker-cli.ts';
import { containersLabelled, PROJECT_LABEL, runningUserStack, type ServiceContainer } from './stacks.ts';

const SERVICES = ['primary', 'replica1', 'replica2', 'redis'] as const;
/** dbproof's own compose file, shipped beside its code: never whatever file the working directory holds. */
const PACKAGED_FILE = packageFile('docker-compose.yml');
const READY_TIMEOUT_MS = 120_000;

type Passwords = ReturnType<typeof composePasswords>;

/** The passwords docker-compose.yml uses: from the environment, else its local defaults. */
export function composePasswords(env: NodeJS.ProcessEnv = process.env) {
  return {
    admin: env.DBPROOF_ADMIN_PASSWORD ?? 'dbproof-local-admin',
    app: env.DBPROOF_APP_PASSWORD ?? 'dbproof-local-app',
    replication: env.DBPROOF_REPLICATION_PASSWORD ?? 'dbproof-local-replication',
    redis: env.DBPROOF_REDIS_PASSWORD ?? 'dbproof-local-redis',
  };
}

/** dbproof's compose file, or the one the spec (compose.file) or DBPROOF_COMPOSE_FILE names on purpose. */
function composeFile(spec: ResolvedTopologySpec): string {
  const chosen = spec.compose?.file ?? process.env.DBPROOF_COMPOSE_FILE;
  const file = chosen ? path.resolve(chosen) : PACKAGED_FILE;
  if (!existsSync(file)) {
    throw new InfrastructureError(
      chosen
        ? `no compose file at ${file} (compose.file or DBPROOF_COMPOSE_FILE)`
        : `dbproof's compose file is missing from its installation (${file}); reinstall dbproof`,
    );
  }
  return file;
}

/** The nodes of a stack's containers; nothing is waited for. */
function composeNodes(containers: ServiceContainer[], passwords: Passwords) {
  const byService = new Map(containers.map((c) => [c.service, c]));
  const missing = SERVICES.filter((s) => !byService.get(s)?.hostPort);
  if (missing.length > 0)
    throw new InfrastructureError(
      `compose services without a published port: ${missing.join(', ')} (is the compose file dbproof's?)`,
    );
  const pgNode = (name: string, role: 'primary' | 'replica'): ContainerPgNode => {
    const c = byService.get(name)!;
    return new ContainerPgNode(
      name,
      role,
      postgresUrl({ user: 'app', password: passwords.app, port: c.hostPort!, database: 'app' }),
      postgresUrl({ user: 'dbproof', password: passwords.admin, port: c.hostPort!, database: 'postgres' }),
      c.hostPort!,
      new DockerControl(name, c.id),
      () => (role === 'replica' ? primary : undefined),
      c.networkId ?? '',
    );
  };
  const primary = pgNode('primary', 'primary');
  const replicas = [pgNode('replica1', 'replica'), pgNode('replica2', 'replica')];
  const redisContainer = byService.get('redis')!;
  const redis = new ContainerRedisNode(
    redisUrl(redisContainer.hostPort!, passwords.redis),
    redisContainer.hostPort!,
    new DockerControl('redis', redisContainer.id),
  );
  const pids = () => [primary, ...replicas, redis].map((n) => n.pid).filter((p): p is number => p !== undefined);
  const container = (n: { docker: { containerId: string } }) => ({ container: n.docker.containerId });
  const describe = (): TopologyDescription =>
    describeTopology('compose', { primary, replicas, redis, pids: pids() }, { postgres: container, redis: container });
  return { primary, replicas, redis, pids, describe };
}

/** A stack's topology once every node answers and both replicas stream; `stop` takes it down (or leaves it, when it is not dbproof's). */
async function readyTopology(nodes: ReturnType<typeof composeNodes>, stop: () => Promise<void>): Promise<Topology> {
  const { primary, replicas, redis } = nodes;
  try {
    await Promise.all([
      primary.ready(READY_TIMEOUT_MS),
      ...replicas.map((r) => r.ready(READY_TIMEOUT_MS)),
      redis.ready(READY_TIMEOUT_MS),
    ]);
    await waitForStreaming(primary.adminUrl, ['replica1', 'replica2'], READY_TIMEOUT_MS);
  } catch (error) {
    throw error instanceof InfrastructureError
      ? error
      : new InfrastructureError(`the compose topology does not answer: ${(error as Error).message}`, error);
  }
  let stopped = false;
  return {
    provider: 'compose',
    workedOnBy: DOCKER_ENGINE_PROCESSES,
    primary,
    replicas,
    redis,
    adminUrl: primary.adminUrl,
    pids: nodes.pids,
    describe: nodes.describe,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stop();
    },
  };
}

/**
 * A stack of dbproof's own: project dbproof-<id> (a new name, so every container and
 * network carrying it is this run's), free ports, new passwords. The watchdog removes
 * everything of the project if this process dies, even while Compose is still creating
 * it; every failure takes it down before the error is passed on.
 */
async function startOwnStack(spec: ResolvedTopologySpec, file: string): Promise<Topology> {
  const compose = await composeCommand();
  const project = `dbproof-${randomBytes(4).toString('hex')}`;
  const [primaryPort, replica1Port, replica2Port, redisPort] = await freePorts(4);
  const passwords = {
    admin: generatePassword(),
    app: generatePassword(),
    replication: generatePassword(),
    redis: generatePassword(),
  };
  const bridgeGateway = await hostAddressOnDefaultBridge().catch(() => undefined);
  // Passwords in the environment of the compose commands, never in their arguments.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DBPROOF_ADMIN_PASSWORD: passwords.admin,
    DBPROOF_APP_PASSWORD: passwords.app,
    DBPROOF_REPLICATION_PASSWORD: passwords.replication,
    DBPROOF_REDIS_PASSWORD: passwords.redis,
    DBPROOF_PRIMARY_PORT: String(primaryPort),
    DBPROOF_REPLICA1_PORT: String(replica1Port),
    DBPROOF_REPLICA2_PORT: String(replica2Port),
    DBPROOF_REDIS_PORT: String(redisPort),
    DBPROOF_BRIDGE_GATEWAY: bridgeGateway ?? '',
    ...(spec.images?.postgres ? { DBPROOF_PG_IMAGE: spec.images.postgres } : {}),
    ...(spec.images?.redis ? { DBPROOF_REDIS_IMAGE: spec.images.redis } : {}),
  };
  const watchdog = Watchdog.start();
  watchdog.watchLabel(`${PROJECT_LABEL}=${project}`);
  const down = async () => {
    // A minute, then the watchdog's removal by label below: a stuck `down` never hangs a failed start.
    await runCompose(compose, ['-p', project, '-f', file, 'down', '-v', '--timeout', '1'], {
      what: `removing compose project ${project}`,
      env,
      timeoutMs: 60_000,
    }).catch(() => {});
    await watchdog.close(); // whatever `down` missed carries the project's label: the watchdog removes it
  };
  try {
    await runCompose(compose, ['-p', project, '-f', file, 'up', '-d'], {
      what: `starting compose project ${project}`,
      env,
      watchdog,
    });
    const containers = await containersLabelled(`${PROJECT_LABEL}=${project}`);
    return await readyTopology(composeNodes(containers, passwords), down);
  } catch (error) {
    await down();
    const message = error instanceof Error ? error.message : String(error);
    throw new InfrastructureError(
      message.includes(project) ? message : `compose project ${project}: ${message}`,
      error,
    );
  }
}

/**
 * The compose topology: the stack a user brought up from dbproof's compose file
 * (`docker compose up -d`) when one runs, attached to and left running on stop();
 * otherwise, unless `start` is false, a stack of dbproof's own, removed on stop().
 * Node operations act on the service containers like the containers provider's.
 */
export async function attachComposeTopology(
  spec: ResolvedTopologySpec,
  options: { start?: boolean } = {},
): Promise<Topology> {
  const file = composeFile(spec);
  await requireDockerEngine();
  const users = await runningUserStack(file);
  if (users) return readyTopology(composeNodes(users, composePasswords()), async () => {});
  if (options.start === false) throw notRunning(file);
  return startOwnStack(spec, file);
}

/** The running user stack's description (undefined when none runs), without waiting for its nodes: `dbproof status` reports them up or down. */
export async function describeUserStack(spec: ResolvedTopologySpec): Promise<TopologyDescription | undefined> {
  const file = composeFile(spec);
  await requireDockerEngine();
  const users = await runningUserStack(file);
  return users ? composeNodes(users, composePasswords()).describe() : undefined;
}

function notRunning(file: string): InfrastructureError {
  return new InfrastructureError(
    `no compose topology of ${file} is running; start one with \`docker compose -f ${file} up -d\` or \`dbproof up --provider compose --detach\``,
  );
}
