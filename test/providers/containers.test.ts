// What only the containers provider does: partitions, Docker clean-up after a SIGKILL,
// the CLI on provider 'containers'.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '../support/temp.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import type { ContainerPgNode } from '../../harness/providers/containers/nodes.ts';
import { runCli, startCli } from '../support/cli.ts';
import { dockerForTests, skipWithoutEngine, resourcesPublishing, stillPresent } from '../support/docker.ts';

const engine = dockerForTests('the containers provider tests');

/**
 * A cgroup of this test's own where the machine has cgroup v1 and we are root, for
 * DBPROOF_CONTAINER_CGROUP_PARENT; undefined elsewhere. Docker makes the parent in every
 * hierarchy it uses: `remove()` removes each copy, children first, and returns what it could not.
 */
function cgroupOfOurOwn(): { parent: string; remove(): string[] } | undefined {
  const root = '/sys/fs/cgroup';
  if (!existsSync(path.join(root, 'cpu', 'cpu.shares')) || process.getuid?.() !== 0) return undefined;
  const name = `dbproof-test-ct-${process.pid}`;
  mkdirSync(path.join(root, 'cpu', name));
  const remove = () => {
    const dirs: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
      dirs.push(dir);
    };
    for (const hierarchy of readdirSync(root)) {
      const top = path.join(root, hierarchy, name);
      if (existsSync(top)) walk(top);
    }
    return dirs.filter((dir) => {
      try {
        rmdirSync(dir);
        return false;
      } catch {
        return true;
      }
    });
  };
  return { parent: `/${name}`, remove };
}

function reachable(port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    // A published port with nothing behind it accepts, then drops: ask Postgres for an answer.
    socket.once('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));
    socket.once('data', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** The standby's own replay position, asked inside its container (the host cannot reach it while partitioned). */
function replayLsnInside(node: ContainerPgNode): string {
  return execFileSync(
    'docker',
    [
      'exec',
      '-u',
      'postgres',
      node.docker.containerId,
      'psql',
      '-h',
      '/run/dbproof',
      '-U',
      'dbproof',
      '-d',
      'postgres',
      '-Atc',
      'SELECT pg_last_wal_replay_lsn()',
    ],
    {
      encoding: 'utf8',
    },
  ).trim();
}

describe('containers provider', skipWithoutEngine(engine), () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ provider: 'containers', replicas: 1, redis: false });
  }, 300_000);
  afterAll(() => topology?.stop(), 120_000);

  test('ports are published on 127.0.0.1 only', () => {
    const container = (topology.primary as ContainerPgNode).docker.containerId;
    const bindings = JSON.parse(
      execFileSync('docker', ['inspect', '-f', '{{json .HostConfig.PortBindings}}', container], { encoding: 'utf8' }),
    );
    expect(bindings['5432/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(topology.primary.port) }]);
  });

  test('disconnect() partitions a replica from its primary while the host still reaches it; reconnect() heals it', async () => {
    const replica = topology.replicas[0] as ContainerPgNode;
    await replica.waitForCatchup(20_000);
    await queryRows(topology.primary.url, 'CREATE TABLE partitioned (id int)');
    await replica.waitForCatchup(20_000);
    await replica.disconnect();
    try {
      const before = replayLsnInside(replica);
      await queryRows(topology.primary.url, 'INSERT INTO partitioned SELECT generate_series(1, 5000)');
      const [{ lsn }] = (await queryRows(topology.adminUrl, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [
        { lsn: string },
      ];
      expect(replayLsnInside(replica)).toBe(before);
      expect(before).not.toBe(lsn);
      // The host still reaches it: it answers, with the rows it had before the partition.
      expect(await reachable(replica.port)).toBe(true);
      expect(await queryRows(replica.url, 'SELECT count(*)::int AS n FROM partitioned')).toEqual([{ n: 0 }]);
      expect(await replica.lagBytes()).toBeGreaterThan(0);
    } finally {
      await replica.reconnect();
    }
    await replica.waitForCatchup(60_000);
    expect(await queryRows(replica.url, 'SELECT count(*)::int AS n FROM partitioned')).toEqual([{ n: 5000 }]);
  }, 120_000);
});

describe('dbproof up --provider containers', skipWithoutEngine(engine), () => {
  test('prints the same JSON shape as the native provider, and a SIGKILLed `up` leaves no container or network', async () => {
    // With a CPU weight of its own for every container, and under a cgroup of the test's own
    // where the machine has cgroup v1 (where --cpu-shares only ranks containers among themselves).
    const group = cgroupOfOurOwn();
    const env = {
      DBPROOF_STATE_DIR: tempDir('ct'),
      DBPROOF_CONTAINER_CPU_SHARES: '17',
      ...(group ? { DBPROOF_CONTAINER_CGROUP_PARENT: group.parent } : {}),
    };
    const { child, firstLine } = await startCli(['up', '--provider', 'containers', '--replicas', '1', '--json'], {
      env,
    });
    const up = JSON.parse(firstLine);
    expect(Object.keys(up).sort()).toEqual(['admin', 'pids', 'primary', 'redis', 'replicas']);
    expect(await queryRows(up.replicas[0], 'SELECT pg_is_in_recovery() AS standby')).toEqual([{ standby: true }]);
    const resources = resourcesPublishing(
      [up.primary, ...up.replicas, up.redis].map((u: string) => Number(new URL(u).port)),
    );
    expect(resources.containers).toHaveLength(3);
    expect(resources.networks).toHaveLength(1);
    const shares = execFileSync('docker', ['inspect', '-f', '{{.HostConfig.CpuShares}}', ...resources.containers], {
      encoding: 'utf8',
    });
    expect(shares.trim().split('\n')).toEqual(['17', '17', '17']);
    if (group) {
      const parents = execFileSync(
        'docker',
        ['inspect', '-f', '{{.HostConfig.CgroupParent}}', ...resources.containers],
        {
          encoding: 'utf8',
        },
      );
      expect(parents.trim().split('\n')).toEqual(Array(3).fill(group.parent));
      for (const id of resources.containers) {
        const full = execFileSync('docker', ['inspect', '-f', '{{.Id}}', id], { encoding: 'utf8' }).trim();
        expect(existsSync(`/sys/fs/cgroup/cpu${group.parent}/${full}`)).toBe(true);
      }
    }
    child.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    let left: string[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = stillPresent(resources);
    } while (left.length > 0 && Date.now() < deadline);
    expect(left).toEqual([]);
    // Docker made the parent in every hierarchy; with its containers gone, all of it is removed.
    if (group) expect(group.remove()).toEqual([]);
  }, 180_000);

  test('a cgroup parent that is not a path is bad input, in one line, before any container exists', async () => {
    const before = execFileSync('docker', ['ps', '-aq'], { encoding: 'utf8' });
    const result = await runCli(['up', '--provider', 'containers', '--json'], {
      env: { DBPROOF_STATE_DIR: tempDir('ct-parent'), DBPROOF_CONTAINER_CGROUP_PARENT: '/dbproof/../docker' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'dbproof: DBPROOF_CONTAINER_CGROUP_PARENT=/dbproof/../docker is not a cgroup: give a path such as /dbproof-low (or a systemd slice such as dbproof.slice), made beforehand, or unset it\n',
    );
    expect(execFileSync('docker', ['ps', '-aq'], { encoding: 'utf8' })).toBe(before);
  });

  test('a CPU weight Docker would refuse is bad input, in one line, before any container exists', async () => {
    const before = execFileSync('docker', ['ps', '-aq'], { encoding: 'utf8' });
    const result = await runCli(['up', '--provider', 'containers', '--json'], {
      env: { DBPROOF_STATE_DIR: tempDir('ct-shares'), DBPROOF_CONTAINER_CPU_SHARES: '1' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "dbproof: DBPROOF_CONTAINER_CPU_SHARES=1 is not a CPU weight: give a whole number from 2 to 262144 (Docker's default is 1024), or unset it\n",
    );
    expect(execFileSync('docker', ['ps', '-aq'], { encoding: 'utf8' })).toBe(before);
  });

  test('a bad --provider is refused with the choices', async () => {
    const result = await runCli(['up', '--provider', 'kubernetes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--provider must be one of native, containers, compose \(got 'kubernetes'\)/);
  });
});

describe('dbproof exec --provider containers', skipWithoutEngine(engine), () => {
  test('hands the containers topology to the command and removes it afterwards', async () => {
    const result = await runCli([
      'exec',
      '--provider',
      'containers',
      '--replicas',
      '1',
      '--no-redis',
      '--',
      'sh',
      '-c',
      'echo "$DATABASE_URL|$DATABASE_REPLICA_URLS"; exit 4',
    ]);
    expect(result.code).toBe(4);
    const [primary, replica] = result.stdout.trim().split('|') as [string, string];
    expect(new URL(primary).hostname).toBe('127.0.0.1');
    expect(new URL(replica).username).toBe('app');
    // Nothing publishes those ports any more: the containers are gone.
    expect(resourcesPublishing([primary, replica].map((u) => Number(new URL(u).port))).containers).toEqual([]);
  }, 180_000);
});
