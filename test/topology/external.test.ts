import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';

let cluster: Topology;
let external: Topology;

beforeAll(async () => {
  // Plays "the staging cluster someone else runs": dbproof only gets its URLs.
  cluster = await startTopology({ replicas: 1 });
  external = await startTopology({
    provider: 'external',
    external: {
      primary: cluster.primary.url,
      replicas: cluster.replicas.map((r) => r.url),
      redis: cluster.redis!.url,
      admin: cluster.adminUrl,
    },
  });
});
afterAll(async () => {
  await external?.stop();
  await cluster?.stop();
});

test('an external topology answers SQL-level questions with the admin credentials', async () => {
  expect(external.provider).toBe('external');
  expect(await external.primary.isInRecovery()).toBe(false);
  expect(await external.replicas[0]!.isInRecovery()).toBe(true);
  await queryRows(external.primary.url, 'CREATE TABLE bags (id int)');
  await external.replicas[0]!.waitForCatchup(10_000);
  expect(await external.replicas[0]!.lagBytes()).toBe(0);
  expect(external.describe().replicas).toEqual([cluster.replicas[0]!.url]);
  expect(external.pids()).toEqual([]);
});

test('process-level faults are refused with a message that says why and what to use', async () => {
  for (const operation of ['kill', 'stop', 'start', 'restart', 'pause', 'resume'] as const) {
    await expect(external.replicas[0]![operation]()).rejects.toThrow(
      new RegExp(`${operation}\\(\\) is not available on replica1 of an external topology.*provider 'native'`),
    );
  }
  await expect(external.redis!.kill()).rejects.toThrow(/not available on redis/);
});

test('stop() leaves an external cluster running', async () => {
  const another = await startTopology({ provider: 'external', external: { primary: cluster.primary.url } });
  await another.stop();
  expect(await queryRows(cluster.primary.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
});

test('URLs that do not answer are refused with a message that says what to check', async () => {
  const wrong = new URL(cluster.primary.url);
  wrong.password = 'wrong';
  await expect(startTopology({ provider: 'external', external: { primary: wrong.toString() } })).rejects.toThrow(
    /does not answer: .*password authentication failed.*check the URLs/,
  );
});
