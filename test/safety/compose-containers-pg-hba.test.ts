// A containers topology's nodes are on its own network only, and their pg_hba names that
// network, not every address: while a node is partitioned (moved to Docker's default
// bridge) the host still logs in through its published port, but another container on
// that bridge, with the right password, is refused.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import type { ContainerPgNode } from '../../harness/providers/containers/nodes.ts';
import { dockerForTests, skipWithoutEngine } from '../support/docker.ts';

const run = promisify(execFile);
const engine = dockerForTests('the containers pg_hba test');

const networkName = (id: string) =>
  execFileSync('docker', ['network', 'inspect', '-f', '{{.Name}}', id], { encoding: 'utf8' }).trim();

describe('a partitioned container node', skipWithoutEngine(engine), () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ provider: 'containers', replicas: 1, redis: false });
  }, 300_000);
  afterAll(() => topology?.stop(), 120_000);

  test("each node is on the topology's network only, not also on Docker's default bridge", () => {
    for (const node of [topology.primary, ...topology.replicas] as ContainerPgNode[]) {
      const networks = execFileSync(
        'docker',
        ['inspect', '-f', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}', node.docker.containerId],
        { encoding: 'utf8' },
      )
        .trim()
        .split(' ');
      expect(networks).toEqual([node.networkId ? networkName(node.networkId) : '?']);
    }
  });

  test('is reachable from the host, and refuses a login from another container on the default bridge', async () => {
    const replica = topology.replicas[0] as ContainerPgNode;
    await replica.disconnect();
    try {
      expect(await queryRows(replica.url, 'SELECT pg_is_in_recovery() AS standby')).toEqual([{ standby: true }]);
      const address = execFileSync(
        'docker',
        ['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', replica.docker.containerId],
        { encoding: 'utf8' },
      ).trim();
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const url = new URL(replica.url);
      url.hostname = address;
      url.port = '5432';
      const image = process.env.DBPROOF_PG_IMAGE ?? 'postgres:15';
      const attempt = await run('docker', [
        'run',
        '--rm',
        '--network',
        'bridge',
        image,
        'psql',
        url.toString(),
        '-Atc',
        'SELECT 1',
      ]).then(
        (r) => `accepted: ${r.stdout}`,
        (error: { stderr?: string }) => `refused: ${error.stderr ?? ''}`,
      );
      expect(attempt).toMatch(/^refused: .*no pg_hba\.conf entry/s);
    } finally {
      await replica.reconnect();
    }
  }, 180_000);
});
