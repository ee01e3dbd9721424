import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queryRows } from '../../harness/pg/client.ts';
import { runCli } from '../support/cli.ts';

const dataset = (name: string) => fileURLToPath(new URL(`../support/datasets/${name}.ts`, import.meta.url));
let env: Record<string, string>;
let up: { primary: string; replicas: string[]; admin: string };
const dbproofDatabases = async () =>
  (await queryRows<{ datname: string }>(up.admin, "SELECT datname FROM pg_database WHERE datname LIKE 'dbproof%'")).map(
    (r) => r.datname,
  );

beforeAll(async () => {
  const stateDir = tempDir('seed');
  env = { DBPROOF_STATE_DIR: stateDir };
  const started = await runCli(['up', '--detach', '--json', '--replicas', '1', '--no-redis'], { env });
  up = JSON.parse(started.stdout);
});
afterAll(async () => {
  await runCli(['down'], { env });
  rmSync(env.DBPROOF_STATE_DIR!, { recursive: true, force: true });
});

describe('dbproof seed', () => {
  test('loads a profile into the app database, on the primary and the replica, and prints one summary line', async () => {
    const result = await runCli(['seed', '--profile', 'bags', '--scale', '0.05', '--seed', '9'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(
      /^seeded bags \(scale 0\.05, seed 9\) into app: stations 40, bags 500, child_bags [\d,]+, scans [\d,]+ — [\d,]+ rows, [\d.]+ s, [\d,]+ rows\/s/,
    );
    for (const url of [up.primary, up.replicas[0]!]) {
      expect(await queryRows(url, 'SELECT count(*)::int AS n FROM bags')).toEqual([{ n: 500 }]);
    }
    expect(await queryRows(up.primary, "SELECT tableowner FROM pg_tables WHERE tablename = 'scans'")).toEqual([
      { tableowner: 'app' },
    ]);
  });

  test('a second seed with the same arguments reuses the snapshot', async () => {
    const result = await runCli(['seed', '--profile', 'bags', '--scale', '0.05', '--seed', '9', '--json'], { env });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      dataset: 'bags',
      reused: true,
      database: 'app',
      rows: { bags: 500, stations: 40 },
    });
  });

  test('seeds a dataset file of your own, and --url seeds that database', async () => {
    const appUrl = new URL(up.primary);
    const result = await runCli(
      ['seed', '--dataset', dataset('small'), '--scale', '2', '--url', appUrl.toString(), '--json'],
      { env },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).rows.owners).toBe(20);
    expect(await queryRows(up.primary, 'SELECT count(*)::int AS n FROM owners')).toEqual([{ n: 20 }]);
  });

  test.each([
    [['--profile', 'nope'], /unknown profile 'nope'; the profiles are inspections, bags, saas/],
    [['--scale', '0'], /--scale must be a number greater than 0 \(got '0'\)/],
    [['--scale', '-2'], /--scale must be a number greater than 0/],
    [['--scale', 'lots'], /--scale must be a number greater than 0 \(got 'lots'\)/],
    [['--seed', '1.5'], /--seed must be a whole number/],
    [['--dataset', dataset('cycle')], /dataset cycle: dependency cycle a → b → a/],
    [['--dataset', dataset('broken-generator')], /table t, column v, row 1: no value today/],
    [['--dataset', '/nonexistent.ts'], /no such file/],
    [['--url', 'mysql://x@127.0.0.1/db'], /--url must be a postgres:\/\/ URL/],
    [['--profile', 'bags', '--dataset', dataset('small')], /not both/],
  ])('dbproof seed %j is refused with one line, exit 2, nothing written', async (args, message) => {
    const before = await dbproofDatabases();
    const result = await runCli(['seed', ...args], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(await dbproofDatabases()).toEqual(before);
  });

  test('with nothing up and no --url, says how to get a topology', async () => {
    const result = await runCli(['seed'], { env: { DBPROOF_STATE_DIR: tempDir('none') } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /no topology is up here to seed; start one with `dbproof up --detach`, or pass --url/,
    );
  });
});
