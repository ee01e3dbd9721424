// `dbproof n1` against apps dbproof cannot see inside: Python with psycopg2, and Node
// on postgres.js. Their queries are attributed from the database's side only.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTopology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

const env = { DBPROOF_STATE_DIR: tempDir('n1') };
const children: ChildProcess[] = [];
let python: string;
let postgresJs: string;
let inspectionId: number;

function startApp(command: string, args: string[], databaseUrl: string): Promise<string> {
  const child = spawn(command, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(String(chunk));
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
  });
}

beforeAll(async () => {
  const up = JSON.parse(
    (await runCli(['up', '--detach', '--json', '--replicas', '1', '--no-redis'], { env })).stdout,
  ) as { primary: string };
  expect((await runCli(['seed', '--profile', 'inspections', '--scale', '0.005', '--seed', '3'], { env })).code).toBe(0);
  const [row] = await queryRows<{ id: string }>(
    up.primary,
    'SELECT inspection_id AS id FROM checklist_items GROUP BY 1 HAVING count(*) >= 25 ORDER BY 1 LIMIT 1',
  );
  inspectionId = Number(row!.id);
  [python, postgresJs] = await Promise.all([
    startApp('/usr/bin/python3', [fileURLToPath(new URL('../apps/python_app.py', import.meta.url))], up.primary),
    startApp(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../apps/postgres-js-app.ts', import.meta.url))],
      up.primary,
    ),
  ]);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await runCli(['down'], { env });
});

const n1 = (...args: string[]) => runCli(['n1', ...args], { env });

describe('dbproof n1', () => {
  test('flags the per-row lookup of a Python/psycopg2 app (exit 1) and passes its join (exit 0)', async () => {
    const flagged = await n1(`${python}/inspections?limit={K}`, '--sizes', '5,25', '--json');
    expect(flagged.code).toBe(1);
    const report = JSON.parse(flagged.stdout);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      exampleSql: 'SELECT name FROM inspectors WHERE id = $1',
      countsBySize: { 5: 5, 25: 25 },
      slope: 1,
    });
    const joined = await n1(`${python}/inspections-joined?limit={K}`, '--sizes', '5,25');
    expect(joined.code).toBe(0);
    expect(joined.stdout).toMatch(/^no N\+1 in /);
  });

  test('flags the per-item query of a postgres.js app, and sees IN lists of any length as one query', async () => {
    const flagged = await n1(`${postgresJs}/inspections/${inspectionId}/media?items={K}`, '--sizes', '5,25');
    expect(flagged.code).toBe(1);
    expect(flagged.stdout).toMatch(/N\+1 in .*: 1 more statement\(s\) per item/);
    expect(flagged.stdout).toMatch(/query: +select id, url from media where checklist_item_id = \$1/i);
    expect(flagged.stdout).toMatch(/counts: +5 → 5, 25 → 25/);
    expect(flagged.stdout).toMatch(/fix: +batch it/);
    // `IN ($1,…,$5)` and `IN ($1,…,$25)` are two entries in pg_stat_statements, one shape to dbproof.
    const batched = await n1(
      `${postgresJs}/inspections/${inspectionId}/media-batched?items={K}`,
      '--sizes',
      '5,25',
      '--json',
    );
    expect(batched.code).toBe(0);
    expect(JSON.parse(batched.stdout).shapes.map((s: { countsBySize: object }) => s.countsBySize)).toEqual([
      { 5: 1, 25: 1 },
      { 5: 1, 25: 1 },
    ]);
  });

  test('--at gives one URL per size, for sizes that live in the data', async () => {
    const result = await n1(
      '--at',
      `3=${python}/inspections?limit=3`,
      '--at',
      `12=${python}/inspections?limit=12`,
      '--json',
    );
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).findings[0].countsBySize).toEqual({ 3: 3, 12: 12 });
  });

  test.each([
    [['http://127.0.0.1:1/x?limit={K}', '--sizes', '25,5'], /--sizes: sizes must be strictly increasing \(got 25,5\)/],
    [['http://127.0.0.1:1/x?limit={K}', '--sizes', '5'], /at least two sizes/],
    [['http://127.0.0.1:1/x?limit={K}', '--sizes', 'five,25'], /--sizes must be whole numbers/],
    [['http://127.0.0.1:1/x?limit=5'], /has no \{K\}/],
    [[], /give one URL with \{K\}/],
    [['ftp://127.0.0.1/{K}'], /not an http\(s\) URL/],
    [['--at', '5'], /--at must be SIZE=URL/],
  ])('n1 %j is refused with exit 2', async (args, message) => {
    const result = await n1(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test('an endpoint that does not answer 2xx is an error (exit 2), never a pass', async () => {
    const notFound = await n1(`${python}/nowhere?limit={K}`);
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toMatch(/returned 404.*must answer 2xx/);
    const down = await n1('http://127.0.0.1:1/inspections?limit={K}');
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/failed: .*is the app running\?/);
  });

  test('a database without pg_stat_statements gets the fix, exit 2', async () => {
    const bare = await startTopology({
      replicas: 0,
      redis: false,
      postgres: { settings: { shared_preload_libraries: '' } },
    });
    try {
      const result = await n1(`${python}/inspections?limit={K}`, '--db-url', bare.adminUrl);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /pg_stat_statements is not available on database: add it to shared_preload_libraries/,
      );
      expect(result.stderr).not.toContain(new URL(bare.adminUrl).password);
    } finally {
      await bare.stop();
    }
  });
});
