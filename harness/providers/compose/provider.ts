import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';
import { postgresUrl } from '../../pg/client.ts';
import { generatePassword } from '../../pg/scram.ts';
import { waitForStreaming } from '../../topology/replication.ts';
import type { ResolvedTopologySpec } from '../../topology/spec.ts';
import { describeTopology } from '../../topology/describe.ts';
import type { Topology, TopologyDescription } from '../../topology/types.ts';
import { redisUrl } from '../native/redis-node.ts';
import { Watchdog } from '../../process/watchdog.ts';
import { DockerControl } from '../containers/docker-node.ts';
import { ContainerPgNode, ContainerRedisNode } from '../containers/nodes.ts';

const run = promisify(execFile);
const SERVICES = ['primary', 'replica1', 'replica2', 'redis'] as const;

/** The passwords docker-compose.yml uses: from the environment, else its local defaults. */
export function composePasswords(env: NodeJS.ProcessEnv = process.env) {
  return {
    admin: env.DBPROOF_ADMIN_PASSWORD ?? 'dbproof-local-admin',
    app: env.DBPROOF_APP_PASSWORD ?? 'dbproof-local-app',
    replication: env.DBPROOF_REPLICATION_PASSWORD ?? 'dbproof-local-replication',
    redis: env.DBPROOF_REDIS_PASSWORD ?? 'dbproof-local-redis',
  };
}

/** `docker compose` (v2) where it exists, else Compose v1's `docker-compose`. */
async function composeCommand(): Promise<string[]> {
  try {
    await run('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    try {
      await run('docker-compose', ['version']);
      return ['docker-compose'];
    } catch {
      throw new InfrastructureError('neither `docker compose` nor `docker-compose` is installed; install one (e.g. `apt-get install -y docker-compose`)');
    }
  }
}

interface ServiceContainer {
  service: string;
  id: string;
  running: boolean;
  hostPort: number | undefined;
  networkId: string | undefined;
}

async function serviceContainers(workingDir: string): Promise<ServiceContainer[]> {
  const { stdout } = await run('docker', ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project.working_dir=${workingDir}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const { stdout: inspected } = await run('docker', ['inspect', ...ids]);
  return (JSON.parse(inspected) as any[]).map((info) => {
    const ports = info.NetworkSettings?.Ports ?? {};
    const binding = (ports['5432/tcp'] ?? ports['6379/tcp'] ?? [])[0];
    const networks = Object.values(info.NetworkSettings?.Networks ?? {}) as { NetworkID: string }[];
    return {
      service: info.Config.Labels['com.docker.compose.service'],
      id: info.Id,
      running: info.State.Running,
      hostPort: binding ? Number(binding.HostPort) : undefined,
      networkId: networks[0]?.NetworkID,
    };
  });
}

/**
 * Attaches to the topology of docker-compose.yml (starting it with `up -d` when it is
 * not running, and then stopping it again on stop()). Node operations act on the
 * service containers like the containers provider's.
 */
export async function attachComposeTopology(spec: ResolvedTopologySpec, options: { start?: boolean } = {}): Promise<Topology> {
  const file = path.resolve(spec.compose?.file ?? process.env.DBPROOF_COMPOSE_FILE ?? 'docker-compose.yml');
  if (!existsSync(file)) throw new InfrastructureError(`no compose file at ${file}; run from the dbproof repository or set DBPROOF_COMPOSE_FILE`);
  const workingDir = path.dirname(file);
  let env = { ...process.env };
  let startedByUs = false;
  let watchdog: Watchdog | undefined;
  let containers = await serviceContainers(workingDir);
  const running = (s: string) => containers.find((c) => c.service === s && c.running);
  if (!running('primary')) {
    if (options.start === false) throw new InfrastructureError(`the compose topology of ${file} is not running; start it with \`docker compose up -d\` or \`dbproof up --provider compose\``);
    // Started by dbproof: new passwords, not the file's local defaults.
    env = { ...env, DBPROOF_ADMIN_PASSWORD: generatePassword(), DBPROOF_APP_PASSWORD: generatePassword(), DBPROOF_REPLICATION_PASSWORD: generatePassword(), DBPROOF_REDIS_PASSWORD: generatePassword() };
    if (spec.images?.postgres) env.DBPROOF_PG_IMAGE = spec.images.postgres;
    if (spec.images?.redis) env.DBPROOF_REDIS_IMAGE = spec.images.redis;
    const compose = await composeCommand();
    try {
      await run(compose[0]!, [...compose.slice(1), '-f', file, 'up', '-d'], { env, cwd: workingDir });
    } catch (error) {
      throw new InfrastructureError(`docker compose up failed: ${(error as { stderr?: string }).stderr?.trim() ?? String(error)}`, error);
    }
    startedByUs = true;
    containers = await serviceContainers(workingDir);
    // Brought up by dbproof, so taken down by dbproof even if this process is killed.
    watchdog = Watchdog.start();
    for (const c of containers) watchdog.watchContainer(c.id);
    for (const network of new Set(containers.map((c) => c.networkId).filter((n): n is string => !!n))) watchdog.watchNetwork(network);
  }
  const passwords = composePasswords(env);
  const byService = new Map(containers.map((c) => [c.service, c]));
  const missing = SERVICES.filter((s) => !byService.get(s)?.hostPort);
  if (missing.length > 0) throw new InfrastructureError(`compose services without a published port: ${missing.join(', ')} (is docker-compose.yml dbproof's?)`);

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
  const redis = new ContainerRedisNode(redisUrl(redisContainer.hostPort!, passwords.redis), redisContainer.hostPort!, new DockerControl('redis', redisContainer.id));

  const down = async () => {
    const compose = await composeCommand();
    await run(compose[0]!, [...compose.slice(1), '-f', file, 'down', '-v'], { env, cwd: workingDir }).catch(() => {});
    await watchdog?.close();
  };
  try {
    await Promise.all([primary.ready(120_000), ...replicas.map((r) => r.ready(120_000)), redis.ready(60_000)]);
    await waitForStreaming(primary.adminUrl, ['replica1', 'replica2'], 120_000);
  } catch (error) {
    if (startedByUs) await down();
    throw error instanceof InfrastructureError ? error : new InfrastructureError(`the compose topology does not answer: ${(error as Error).message}`, error);
  }

  let stopped = false;
  const container = (n: { docker: { containerId: string } }) => ({ container: n.docker.containerId });
  const pids = () => [primary, ...replicas, redis].map((n) => n.pid).filter((p): p is number => p !== undefined);
  const describe = (): TopologyDescription => describeTopology('compose', { primary, replicas, redis, pids: pids() }, { postgres: container, redis: container });
  return {
    provider: 'compose',
    primary,
    replicas,
    redis,
    adminUrl: primary.adminUrl,
    pids,
    describe,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // A topology someone else brought up is theirs to take down.
      if (startedByUs) await down();
    },
  };
}
