// One specification, every provider: what a Topology promises does not depend on
// whether its nodes are processes, containers or compose services. The compose checks
// live in this file too: docker-compose.yml has fixed ports, so its users must take turns
// (the describe blocks of one file run one after another).
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp.ts';
import { afterAll, beforeAll, describe, expect, type TestFunction, test } from 'vitest';
import { runCli, startCli } from '../support/cli.ts';
import { pingRedis } from '../../harness/providers/native/redis-node.ts';
import { withPlanCapture } from '../../harness/capture/plan-capture.ts';
import { startTopology, type Topology, type ProviderName } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { isAlive } from '../support/processes.ts';
import { dockerForTests, skipWithoutEngine, networksOf, resourcesPublishing, stillPresent } from '../support/docker.ts';
import { holdRepoComposeAround } from '../support/repo-compose.ts';

const providers: ProviderName[] = ['native', 'containers', 'compose'];
const engine = dockerForTests('the containers and compose providers of the conformance suite');

describe.each(providers)('provider %s', (provider) => {
  const needsEngine = provider !== 'native';
  let topology: Topology;

  beforeAll(async () => {
    if (needsEngine && !engine) return;
    topology = await startTopology({ provider, replicas: 2 });
  }, 300_000);
  afterAll(async () => {
    await topology?.stop();
  }, 120_000);

  const options = needsEngine ? skipWithoutEngine(engine) : {};
  const it = (name: string, fn: TestFunction) => test(name, options, fn);

  it('serves URLs on 127.0.0.1 only, with passwords', () => {
    for (const url of [
      topology.primary.url,
      ...topology.replicas.map((r) => r.url),
      topology.redis!.url,
      topology.adminUrl,
    ]) {
      expect(new URL(url).hostname).toBe('127.0.0.1');
      expect(new URL(url).password.length).toBeGreaterThan(8);
    }
  });

  it('a row written on the primary is read on every replica', async () => {
    await queryRows(topology.primary.url, 'CREATE TABLE conformance (id int PRIMARY KEY, note text)');
    await queryRows(topology.primary.url, "INSERT INTO conformance VALUES (1, 'written on the primary')");
    for (const replica of topology.replicas) {
      await replica.waitForCatchup(20_000);
      expect(await queryRows(replica.url, 'SELECT note FROM conformance WHERE id = 1')).toEqual([
        { note: 'written on the primary' },
      ]);
    }
  });

  it('a killed replica stops answering while the other serves, and streams again after start()', async () => {
    const [victim, survivor] = topology.replicas as [Topology['primary'], Topology['primary']];
    await victim.kill();
    await expect(queryRows(victim.url, 'SELECT 1', [], 1000)).rejects.toThrow();
    expect(await queryRows(survivor.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    await queryRows(topology.primary.url, "INSERT INTO conformance VALUES (2, 'while replica1 was down')");
    await victim.start();
    await victim.waitForCatchup(30_000);
    expect(await queryRows(victim.url, 'SELECT note FROM conformance WHERE id = 2')).toEqual([
      { note: 'while replica1 was down' },
    ]);
  });

  it('a paused replica falls behind while the primary writes and catches up after resume()', async () => {
    const replica = topology.replicas[1]!;
    await replica.waitForCatchup(20_000);
    await replica.pause();
    try {
      await queryRows(
        topology.primary.url,
        "INSERT INTO conformance SELECT g, repeat('x', 200) FROM generate_series(100, 3000) g",
      );
      expect(await replica.lagBytes()).toBeGreaterThan(100_000);
      await expect(queryRows(replica.url, 'SELECT 1', [], 500)).rejects.toThrow();
    } finally {
      await replica.resume();
    }
    await replica.waitForCatchup(30_000);
    expect(await queryRows(replica.url, 'SELECT count(*)::int AS n FROM conformance')).toEqual(
      await queryRows(topology.primary.url, 'SELECT count(*)::int AS n FROM conformance'),
    );
  });

  it('Redis can be paused and resumed, killed and started', async () => {
    const redis = topology.redis!;
    await redis.pause();
    await expect(pingRedis(redis.url, 500)).rejects.toThrow();
    await redis.resume();
    await pingRedis(redis.url, 2000);
    await redis.kill();
    await expect(pingRedis(redis.url, 500)).rejects.toThrow();
    await redis.start();
    await pingRedis(redis.url, 2000);
  });

  it('a promoted replica takes writes after the primary is killed', async () => {
    await topology.primary.kill();
    const replica = topology.replicas[1]!;
    await replica.promote();
    expect(await replica.isInRecovery()).toBe(false);
    await queryRows(replica.url, "INSERT INTO conformance VALUES (9999, 'on the new primary')");
    expect(await queryRows(replica.url, 'SELECT note FROM conformance WHERE id = 9999')).toEqual([
      { note: 'on the new primary' },
    ]);
  });

  it('stop() leaves no process, container or network behind', async () => {
    const pids = topology.pids();
    const containers = topology.describe().nodes.flatMap((n) => (n.container ? [n.container] : []));
    const resources = needsEngine ? { containers, networks: networksOf(containers) } : undefined;
    if (resources) expect(resources.networks).toHaveLength(1);
    await topology.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    if (resources) expect(stillPresent(resources)).toEqual([]);
  });
});

const run = promisify(execFile);
const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const compose = async (...args: string[]) => {
  // Compose v2 where present, else v1 (Debian's docker-compose package).
  try {
    await run('docker', ['compose', 'version']);
    return run('docker', ['compose', ...args], { cwd: root });
  } catch {
    return run('docker-compose', args, { cwd: root });
  }
};

describe('dbproof up --provider compose', skipWithoutEngine(engine), () => {
  // Run from the repository: it would attach to the repository's own stack, were one up.
  holdRepoComposeAround();
  test('a compose topology dbproof brought up is taken down even when `up` is SIGKILLed', async () => {
    const { child, firstLine } = await startCli(['up', '--provider', 'compose', '--json'], {
      cwd: root,
      env: { DBPROOF_STATE_DIR: tempDir('compose-kill') },
    });
    const up = JSON.parse(firstLine) as { primary: string; replicas: string[]; redis: string };
    const resources = resourcesPublishing([up.primary, ...up.replicas, up.redis].map((u) => Number(new URL(u).port)));
    expect(resources.containers).toHaveLength(4);
    expect(new URL(up.primary).password).not.toBe('dbproof-local-admin'); // fresh passwords, not the file's defaults
    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    let left = stillPresent(resources);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = stillPresent(resources);
    }
    expect(left).toEqual([]);
  }, 180_000);
});

describe('docker-compose.yml', skipWithoutEngine(engine), () => {
  // The repository's own stack: no other file's compose provider may attach to it meanwhile.
  holdRepoComposeAround();
  beforeAll(async () => {
    await compose('up', '-d');
  }, 300_000);
  afterAll(async () => {
    await compose('down', '-v');
  }, 120_000);

  test('`docker compose up -d` gives a streaming topology that `dbproof status --provider compose` reports', async () => {
    const env = { DBPROOF_STATE_DIR: tempDir('compose') };
    // `up -d` returns once the containers run; the replicas stream a moment later.
    let status = await runCli(['status', '--provider', 'compose', '--json'], { cwd: root, env });
    for (let attempt = 0; attempt < 60 && !/"lagBytes":\d+.*"lagBytes":\d+/.test(status.stdout); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await runCli(['status', '--provider', 'compose', '--json'], { cwd: root, env });
    }
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      provider: string;
      nodes: {
        name: string;
        role: string;
        up: boolean;
        replication: string | null;
        lagBytes: number | null;
        port: number;
        pid: number | null;
      }[];
    };
    expect(report.provider).toBe('compose');
    expect(report.nodes.map((n) => [n.name, n.role, n.up, n.replication])).toEqual([
      ['primary', 'primary', true, null],
      ['replica1', 'replica', true, 'streaming'],
      ['replica2', 'replica', true, 'streaming'],
      ['redis', 'redis', true, null],
    ]);
    expect(report.nodes.filter((n) => n.role === 'replica').every((n) => typeof n.lagBytes === 'number')).toBe(true);
    expect(report.nodes.every((n) => n.pid !== null)).toBe(true);
    expect(report.nodes.map((n) => n.port)).toEqual([25432, 25433, 25434, 26379]);
  });

  test("the compose provider attaches to it and leaves it running on stop(): it is the user's, not dbproof's", async () => {
    const attached = await startTopology({ provider: 'compose' });
    const containers = attached.describe().nodes.flatMap((n) => (n.container ? [n.container] : []));
    expect(attached.primary.port).toBe(25432);
    await attached.stop();
    expect(stillPresent({ containers, networks: networksOf(containers) })).toHaveLength(containers.length + 1);
    const running = (id: string) =>
      execFileSync('docker', ['inspect', '-f', '{{.State.Running}}', id], { encoding: 'utf8' }).trim();
    expect(containers.map(running)).toEqual(['true', 'true', 'true', 'true']);
  }, 300_000);

  test("its nodes load auto_explain and log dbproof's prefix: a plan of the app role read back from a container's log", async () => {
    const attached = await startTopology({ provider: 'compose' });
    try {
      const nodes = [attached.primary, attached.replicas[0]!].map((node) => ({
        name: node.name,
        adminUrl: node.adminUrl,
        serverLog: node.serverLog!,
      }));
      const read = await withPlanCapture(nodes, (capture) =>
        capture.plans(
          async () => {
            await queryRows(attached.replicas[0]!.url, 'SELECT count(*) AS n FROM pg_class WHERE relpages > $1', [0]);
          },
          'app',
          'app',
        ),
      );
      expect(read.plans).toEqual([
        expect.objectContaining({ user: 'app', database: 'app', queryText: expect.stringMatching(/FROM pg_class/) }),
      ]);
    } finally {
      await attached.stop();
    }
  }, 120_000);

  test('its ports answer on 127.0.0.1 with the app role', async () => {
    expect(
      await queryRows(
        'postgres://app:dbproof-local-app@127.0.0.1:25433/app',
        'SELECT pg_is_in_recovery() AS standby, current_user AS who',
      ),
    ).toEqual([{ standby: true, who: 'app' }]);
  });
});
