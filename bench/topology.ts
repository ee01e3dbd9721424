/**
 * `npm run bench -- topology`: time from startTopology() to ready for a primary,
 * 2 replicas and Redis, next to the floor measured in the same run: the bare starts
 * of three `postgres` and one `redis-server` it performs, in parallel, from data
 * directories copied beforehand. Also the copy of the data directories, which the
 * topology does and the floor does not, so the remainder can be attributed. Where a
 * Docker engine answers, the same topology on the containers provider, its runs
 * interleaved with the native ones so that a noisy neighbour slows both alike (target:
 * within 1.5 s of native).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startTopology, type ProviderName } from '../harness/index.ts';
import { postgresImage } from '../harness/providers/containers/images.ts';
import { findPostgresBinaries, findRedisServer } from '../harness/providers/native/binaries.ts';
import { postgresRunAs } from '../harness/providers/native/os-user.ts';
import { freePorts } from '../harness/providers/native/ports.ts';
import {
  postgresProgram,
  spawnPostgres,
  waitUntilAccepting,
  waitForExit,
} from '../harness/providers/native/postgres-process.ts';
import { ensurePristineDataDir } from '../harness/providers/native/pristine.ts';
import { NativeRedisNode } from '../harness/providers/native/redis-node.ts';
import { baseDir } from '../harness/providers/native/run-dir.ts';
import { DEFAULT_SETTINGS } from '../harness/providers/native/settings.ts';
import { Watchdog } from '../harness/process/watchdog.ts';
import { endProcessesUnder } from '../harness/process/node-processes.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

const bins = findPostgresBinaries();
const runAs = postgresRunAs();
const buildWatchdog = Watchdog.start();
const pristine = await ensurePristineDataDir(bins, runAs, buildWatchdog).finally(() => buildWatchdog.close());
const redisServer = findRedisServer();

function copyDataDirs(into: string, count: number): { dirs: string[]; ms: number } {
  const dirs = Array.from({ length: count }, (_, i) => path.join(into, `pg${i}`));
  const started = performance.now();
  // As the provider does: in parallel, with cp -a.
  execFileSync('sh', ['-c', `${dirs.map((d) => `cp -a '${pristine}' '${d}' &`).join(' ')} wait`]);
  return { dirs, ms: performance.now() - started };
}

/**
 * The floor: three bare postgres and one redis-server until each accepts, measured
 * two ways: started together (parallel) and one after another (the sum of the starts).
 */
async function bareStarts(): Promise<{ floorMs: number; sumMs: number; copyMs: number }> {
  const dir = mkdtempSync(path.join(baseDir(), 'bench-'));
  chmodSync(dir, 0o711); // the postgres user must traverse it
  const watchdog = Watchdog.start();
  watchdog.watchDir(dir, [postgresProgram(bins), redisServer]);
  try {
    const socketDir = path.join(dir, 'sock');
    mkdirSync(socketDir, { mode: 0o700 });
    if (runAs) chownSync(socketDir, runAs.uid, runAs.gid);
    const { dirs, ms: copyMs } = copyDataDirs(dir, 3);
    const ports = await freePorts(4);
    const launches = dirs.map((dataDir, i) => ({
      bins,
      runAs,
      dataDir,
      port: ports[i]!,
      socketDir,
      logFile: path.join(dir, `pg${i}.log`),
      settings: DEFAULT_SETTINGS,
    }));
    const redis = new NativeRedisNode({
      redisServer,
      dir: path.join(dir, 'redis'),
      port: ports[3]!,
      password: 'bench-only',
      watchdog,
    });
    const stopAll = async (children: ReturnType<typeof spawnPostgres>[]) => {
      await Promise.all([
        ...dirs.map((d, i) =>
          endProcessesUnder(d, { programs: [postgresProgram(bins)], mainPid: children[i]!.pid, gentle: 'SIGQUIT' }),
        ),
        redis.teardown(),
      ]);
      await Promise.all(children.map((c) => waitForExit(c, 5000)));
    };
    let started = performance.now();
    let children = launches.map((launch) => spawnPostgres(launch));
    redis.spawn();
    await Promise.all([...children.map((child, i) => waitUntilAccepting(child, launches[i]!)), redis.ready()]);
    const floorMs = performance.now() - started;
    await stopAll(children);

    started = performance.now();
    children = [];
    for (const launch of launches) {
      children.push(spawnPostgres(launch));
      await waitUntilAccepting(children.at(-1)!, launch);
    }
    redis.spawn();
    await redis.ready();
    const sumMs = performance.now() - started;
    await stopAll(children);
    return { floorMs, sumMs, copyMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await watchdog.close();
  }
}

async function topologyStart(provider: ProviderName = 'native'): Promise<number> {
  const started = performance.now();
  const topology = await startTopology({ provider, replicas: 2, redis: true });
  const ms = performance.now() - started;
  await topology.stop();
  return ms;
}

export async function benchTopology(): Promise<void> {
  // One warm-up of each: the initdb template is built above, page cache warmed here.
  await bareStarts();
  await topologyStart();
  // The containers provider's first start also finds the engine (testcontainers' runtime detection).
  const withContainers = dockerAnswers();
  if (withContainers) await topologyStart('containers');
  const floors: number[] = [];
  const sums: number[] = [];
  const copies: number[] = [];
  const topologies: number[] = [];
  const containerRuns: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so that a noisy neighbour slows both alike.
    const { floorMs, sumMs, copyMs } = await bareStarts();
    floors.push(floorMs);
    sums.push(sumMs);
    copies.push(copyMs);
    topologies.push(await topologyStart());
    if (withContainers) containerRuns.push(await topologyStart('containers'));
  }
  const floor = median(floors);
  const sum = median(sums);
  const copy = median(copies);
  const topology = median(topologies);
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  console.log(`topology: primary + 2 replicas + Redis, median of ${RUNS} (PostgreSQL ${bins.version})`);
  console.log(
    `  startTopology() to ready   ${fmt(topology)}   (runs: ${topologies.map((t) => t.toFixed(0)).join(', ')})`,
  );
  console.log(`  floor, bare starts together ${fmt(floor)}   (runs: ${floors.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`  floor, bare starts in turn  ${fmt(sum)}   (runs: ${sums.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(
    `  ratio to the parallel floor ${(topology / floor).toFixed(2)}x;  to the sum of starts ${(topology / sum).toFixed(2)}x   (target: < 1.5x, and < 1000 ms)`,
  );
  console.log(
    `  where the rest goes: copying 3 data directories ${fmt(copy)}; streaming set-up, passwords, replay wait ${fmt(Math.max(0, topology - floor - copy))}`,
  );

  if (!withContainers) {
    console.log('  containers provider: skipped, no Docker engine answers');
    return;
  }
  const containers = median(containerRuns);
  console.log(
    `  containers provider         ${fmt(containers)}   (${range(containerRuns)}; runs: ${containerRuns.map((t) => t.toFixed(0)).join(', ')}; image ${postgresImage()})`,
  );
  console.log(
    `  containers vs native        ${fmt(containers)} vs ${fmt(topology)} (${range(topologies)}): +${fmt(containers - topology)}, ${(containers / topology).toFixed(1)}x   (target: ≤ native + 1500 ms)`,
  );
}

function dockerAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
