// dbproof never drops or replaces a database it did not create (issue 12, items 1 and 2).
// A gate on an external cluster seeds a database of its own and leaves every other one
// as it found it; `dbproof seed --url` replaces only a database dbproof seeded, or the one
// the user names with --replace, and never another host's without being told.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { exampleAppCommand } from '../../example/launch.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('data-loss');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
let cluster: Topology;

const on = (url: string, database: string) => Object.assign(new URL(url), { pathname: `/${database}` }).toString();
const count = async (url: string, table: string) =>
  (await queryRows<{ n: number }>(url, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
const databases = async (like: string) =>
  (
    await queryRows<{ datname: string }>(
      cluster.adminUrl,
      'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1',
      [like],
    )
  ).map((r) => r.datname);

/** A database someone else made and filled: what dbproof must never lose. */
async function userDatabase(name: string, rows: number): Promise<string> {
  await queryRows(cluster.adminUrl, `CREATE DATABASE ${name} OWNER app`);
  const url = on(cluster.primary.url, name);
  await queryRows(url, 'CREATE TABLE customers (id int PRIMARY KEY, name text)');
  await queryRows(url, 'INSERT INTO customers SELECT i, $1 || i FROM generate_series(1, $2::int) i', [
    'customer ',
    rows,
  ]);
  return url;
}

beforeAll(async () => {
  // Plays "the staging cluster someone else runs".
  cluster = await startTopology({ replicas: 1, redis: false });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('a gate on an external cluster', () => {
  test("seeds a database of its own, hands it to the app, drops it afterwards, and leaves the cluster's databases as they were", async () => {
    const staging = await userDatabase('staging_main', 500);
    await cluster.replicas[0]!.waitForCatchup(30_000);
    const config = path.join(dir, 'external.config.ts');
    writeFileSync(
      config,
      `export default ${JSON.stringify({
        topology: {
          provider: 'external',
          external: {
            primary: staging,
            replicas: cluster.replicas.map((r) => on(r.url, 'staging_main')),
            admin: cluster.adminUrl,
          },
        },
        dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
        app: {
          name: 'reference app',
          command: exampleAppCommand(),
          cwd: ROOT,
        },
        // Every request reads a seeded inspection: an error budget of 0 proves the app was given the seeded data.
        scenarios: {
          'by-id': {
            request: 'GET /inspections/{id}',
            ids: { from: 1, to: 80 },
            rate: 20,
            durationMs: 1500,
            budgets: 'errors=0',
          },
        },
        results: { dir: path.join(dir, 'results') },
      })};\n`,
    );
    const result = await runCli(['gate', '--config', config]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stderr + result.stdout).toMatch(
      /seeding inspections \(scale 0.002\) into dbproof_app_[0-9a-f]{12}, a database of this run's own on the external primary/,
    );
    expect(await count(staging, 'customers')).toBe(500);
    expect(await databases('dbproof_app_%')).toEqual([]);
    // The template it made on someone else's server went with the run too.
    expect(await databases('dbproof_inspections_%')).toEqual([]);
  });
});

describe('dbproof seed --url', () => {
  const seed = (url: string, ...args: string[]) =>
    runCli(['seed', '--profile', 'bags', '--scale', '0.01', '--url', url, ...args], {
      env: { DBPROOF_STATE_DIR: path.join(dir, 'state') },
    });
  const refused = (result: { code: number | null; stderr: string }, message: RegExp) => {
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  };

  test('refuses to replace a database dbproof did not create, and says how to allow it', async () => {
    const users = await userDatabase('users_main', 1000);
    const before = await databases('dbproof%');
    refused(
      await seed(users),
      /database "users_main" on 127\.0\.0\.1:\d+ was not created by dbproof .*pass --replace users_main/,
    );
    expect(await count(users, 'customers')).toBe(1000);
    // Refused before anything was generated: no template was written either.
    expect(await databases('dbproof%')).toEqual(before);
  });

  test('replaces it when --replace names it, and from then on knows it as its own', async () => {
    const users = await userDatabase('users_replace', 1000);
    const first = await seed(users, '--replace', 'users_replace');
    expect(first.code, first.stderr).toBe(0);
    expect(await count(users, 'bags')).toBe(100);
    const again = await seed(users);
    expect(again.code, again.stderr).toBe(0);
  });

  test('creates a database that does not exist, and replaces it the next time without being told', async () => {
    const fresh = on(cluster.primary.url, 'seeded_fresh');
    expect((await seed(fresh)).code).toBe(0);
    expect(await count(fresh, 'bags')).toBe(100);
    expect((await seed(fresh)).code).toBe(0);
  });

  test('a URL without a database is refused: libpq would pick the one named after the user', async () => {
    refused(await seed(on(cluster.primary.url, '')), /--url names no database: add it to the URL's path/);
  });

  test('another host is refused without --replace, before anything connects', async () => {
    refused(
      await seed('postgres://app:secret@db.staging.invalid:5432/main'),
      /--url points at db\.staging\.invalid, not this machine: .*add --replace main/,
    );
  });

  test('--replace must name the database of --url', async () => {
    refused(
      await seed(on(cluster.primary.url, 'users_main'), '--replace', 'other'),
      /--replace other does not match the database of --url \(users_main\)/,
    );
  });

  test('a server that does not answer is one line, password hidden', async () => {
    const result = await seed('postgres://app:hunter2@127.0.0.1:9/main');
    refused(result, /cannot connect to postgres:\/\/app:\*\*\*@127\.0\.0\.1:9\/main \(ECONNREFUSED\); check the host/);
    expect(result.stderr).not.toContain('hunter2');
  });
});
