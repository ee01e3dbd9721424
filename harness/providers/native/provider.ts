import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InfrastructureError } from '../../errors.ts';
import { postgresUrl, withClient } from '../../pg/client.ts';
import { generatePassword, scramVerifier } from '../../pg/scram.ts';
import { Watchdog } from '../../process/watchdog.ts';
import { waitForReplayed, waitForStreaming } from '../../topology/replication.ts';
import type { ResolvedTopologySpec } from '../../topology/spec.ts';
import { describeTopology } from '../../topology/describe.ts';
import type { PgNode, SeedCacheControl, Topology, TopologyDescription } from '../../topology/types.ts';
import { findPostgresBinaries, findRedisServer, type PostgresBinaries } from './binaries.ts';
import { lookupSeedCache, storeSeedCache } from './seed-cache.ts';
import { postgresRunAs, type RunAs } from './os-user.ts';
import { freePorts } from './ports.ts';
import { NativePgNode } from './postgres-node.ts';
import { postgresProgram, socketConfig } from './postgres-process.ts';
import { ensurePristineDataDir } from './pristine.ts';
import { NativeRecovery } from './recovery.ts';
import { NativeRedisNode } from './redis-node.ts';
import { createRunDir, diskUsage, requireFreeSpace, sweepStaleRuns } from './run-dir.ts';
import { nodeSettings } from './settings.ts';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 60_000;

class NativeTopology implements Topology {
  readonly provider = 'native' as const;
  readonly seedCache: SeedCacheControl;
  #stopped = false;

  constructor(
    readonly primary: NativePgNode,
    readonly replicas: NativePgNode[],
    readonly redis: NativeRedisNode | undefined,
    readonly runDir: string,
    private readonly watchdog: Watchdog,
    cache: { hit: boolean; bins: PostgresBinaries; runAs: RunAs | undefined; socketDir: string },
    readonly recovery: NativeRecovery,
  ) {
    this.seedCache = {
      hit: cache.hit,
      store: (key) =>
        storeSeedCache({
          bins: cache.bins,
          runAs: cache.runAs,
          key,
          socketDir: cache.socketDir,
          primaryPort: this.primary.port,
          watchdog,
          runDir,
        }),
    };
  }

  get adminUrl(): string {
    return this.primary.adminUrl;
  }

  pids(): number[] {
    // The watchdog too: it is a process this topology started, and it must be gone after a run as well.
    return [this.primary, ...this.replicas, ...this.recovery.restored, this.redis, this.watchdog]
      .map((n) => n?.pid)
      .filter((p): p is number => p !== undefined);
  }

  describe(): TopologyDescription {
    return describeTopology(
      'native',
      { primary: this.primary, replicas: this.replicas, redis: this.redis, pids: this.pids() },
      {
        postgres: (n) => ({ pidFile: path.join(n.dataDir, 'postmaster.pid') }),
        redis: (n) => ({ pidFile: n.pidFile }),
      },
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(
      [this.primary, ...this.replicas, ...this.recovery.restored, this.redis].map((n) => n?.teardown().catch(() => {})),
    );
    rmSync(this.runDir, { recursive: true, force: true });
    await this.watchdog.close();
  }
}

async function copyDataDir(pristine: string, target: string): Promise<void> {
  // `cp -a` keeps ownership (the postgres user) and modes; it is also faster than fs.cp for thousands of small files.
  await run('cp', ['-a', pristine, target]);
}

function makeOwnedDir(dir: string, runAs: RunAs | undefined): void {
  mkdirSync(dir, { mode: 0o700 });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
}

/** Sets this run's passwords, as SCRAM verifiers, over the peer-authenticated socket. */
async function setRunPasswords(
  socketDir: string,
  port: number,
  passwords: { admin: string; app: string },
): Promise<void> {
  await withClient(socketConfig(socketDir, port), async (client) => {
    // A verifier is not a secret worth hiding, but keep even that out of pg_stat_statements.
    await client.query('SET pg_stat_statements.track_utility = off');
    await client.query(`ALTER ROLE dbproof PASSWORD '${scramVerifier(passwords.admin)}'`);
    await client.query(`ALTER ROLE app PASSWORD '${scramVerifier(passwords.app)}'`);
  });
}

/**
 * Starts a primary, `spec.replicas` streaming standbys and Redis as local processes.
 * Resolves only when every standby streams and has replayed the run's set-up, and
 * Redis answers PING. On any failure, everything started so far is stopped.
 */
export async function startNativeTopology(spec: ResolvedTopologySpec): Promise<Topology> {
  const bins = findPostgresBinaries(spec.postgres.binDir);
  const redisServer = spec.redis ? findRedisServer(spec.redisServer) : undefined;
  const runAs = postgresRunAs();
  await sweepStaleRuns();
  // From here on, whatever this run starts or builds goes when it dies, however it dies.
  const watchdog = Watchdog.start();
  let pristine: string;
  let cached: string | undefined;
  try {
    cached = spec.postgres.seedCacheKey ? lookupSeedCache(bins, spec.postgres.seedCacheKey) : undefined;
    pristine = cached ?? (await ensurePristineDataDir(bins, runAs, watchdog));
    requireFreeSpace(spec.replicas + 1, diskUsage(pristine));
  } catch (error) {
    await watchdog.close();
    throw error;
  }

  const programs = [postgresProgram(bins), ...(redisServer ? [redisServer] : [])];
  const runDir = createRunDir(programs);
  watchdog.watchDir(runDir, programs);
  const nodes: NativePgNode[] = [];
  let redis: NativeRedisNode | undefined;
  try {
    const socketDir = path.join(runDir, 'sock');
    const logDir = path.join(runDir, 'logs');
    makeOwnedDir(socketDir, runAs);
    mkdirSync(logDir, { mode: 0o700 });
    const [primaryPort, redisPort, ...replicaPorts] = await freePorts(spec.replicas + 2);
    const passwords = { admin: generatePassword(), app: generatePassword() };
    const replicaNames = replicaPorts.map((_, i) => `replica${i + 1}`);
    const nodeSettingsOf = (name: string, role: 'primary' | 'replica') =>
      nodeSettings({ spec, name, role, primaryPort: primaryPort!, socketDir, replicaNames });

    const names = ['primary', ...replicaNames];
    const ports = [primaryPort!, ...replicaPorts];
    names.forEach((name, i) => {
      const role = i === 0 ? 'primary' : 'replica';
      const port = ports[i]!;
      nodes.push(
        new NativePgNode({
          name,
          role,
          launch: {
            bins,
            runAs,
            dataDir: path.join(runDir, name),
            port,
            socketDir,
            logFile: path.join(logDir, `${name}.log`),
            settings: nodeSettingsOf(name, role),
          },
          url: postgresUrl({ user: 'app', password: passwords.app, port, database: 'app' }),
          adminUrl: postgresUrl({ user: 'dbproof', password: passwords.admin, port, database: 'postgres' }),
          watchdog,
          upstream: () => (role === 'replica' ? nodes[0] : undefined),
        }),
      );
    });
    if (redisServer)
      redis = new NativeRedisNode({
        redisServer,
        dir: path.join(runDir, 'redis'),
        port: redisPort!,
        password: generatePassword(),
        watchdog,
      });

    // Each node starts as soon as its own copy is made; standbys stream once the primary accepts them.
    redis?.spawn();
    await Promise.all(
      nodes.map(async (node) => {
        await copyDataDir(pristine, node.dataDir);
        if (node.role === 'replica') {
          const signal = path.join(node.dataDir, 'standby.signal');
          writeFileSync(signal, '');
          if (runAs) chownSync(signal, runAs.uid, runAs.gid);
        }
        node.spawn();
      }),
    );
    const [primary, ...replicas] = nodes as [NativePgNode, ...NativePgNode[]];
    await Promise.all([
      (async () => {
        await primary.ready(READY_TIMEOUT_MS);
        await setRunPasswords(socketDir, primary.port, passwords);
        await waitForStreaming(primary.adminUrl, replicaNames, READY_TIMEOUT_MS);
        // The passwords travel to the standbys as WAL: wait until they have it, so their URLs work.
        await Promise.all(
          replicas.map((r) =>
            r
              .ready(READY_TIMEOUT_MS)
              .then(() => waitForReplayed(primary.adminUrl, r.adminUrl, r.name, READY_TIMEOUT_MS)),
          ),
        );
      })(),
      redis?.ready(),
    ]);
    return new NativeTopology(
      primary,
      replicas,
      redis,
      runDir,
      watchdog,
      { hit: cached !== undefined, bins, runAs, socketDir },
      new NativeRecovery({
        bins,
        runAs,
        runDir,
        socketDir,
        logDir,
        watchdog,
        primary,
        settings: nodeSettingsOf('primary', 'primary'),
      }),
    );
  } catch (error) {
    await Promise.all([...nodes.map((n) => n.teardown().catch(() => {})), redis?.teardown().catch(() => {})]);
    rmSync(runDir, { recursive: true, force: true });
    await watchdog.close();
    throw error instanceof InfrastructureError
      ? error
      : new InfrastructureError(`could not start the native topology: ${String(error)}`, error);
  }
}

export type { PgNode };
