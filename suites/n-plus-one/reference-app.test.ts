// The reference app has each classic N+1 next to its fix. Every N+1 endpoint must be
// flagged (the negative control: the check can fail) and every fix must pass, through
// both capture paths.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  captureQueries,
  captureServerSide,
  checkEndpoint,
  checkOperation,
  type N1Finding,
  type N1Report,
} from '../../harness/capture/index.ts';
import '../../harness/vitest/matchers.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { inspections } from '../../fixtures/index.ts';
import { seedPrivateDatabase, type PrivateDatabase } from '../../fixtures/private-database.ts';
import { connect, type Db } from '../../example/src/db.ts';
import * as service from '../../example/src/inspections.ts';
import { startExampleApp } from '../../example/launch.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const SIZES = [5, 25];
const topology = workerTopology();
let database: PrivateDatabase;
let app: { url: string; stop(): Promise<void> };
let db: Db;
let inspectionId: number;

beforeAll(async () => {
  // A database of this suite's own: black-box attribution must not see other suites' queries.
  database = await seedPrivateDatabase(topology, inspections, { scale: 0.005, seed: 11 });
  const replicaUrls = database.replicaUrls;
  app = await startExampleApp({
    DATABASE_URL: database.url,
    DATABASE_REPLICA_URLS: replicaUrls.join(','),
    REDIS_URL: topology.redis?.url ?? '',
  });
  db = connect(database.url, replicaUrls);
  const [row] = await queryRows<{ id: string }>(
    database.url,
    'SELECT inspection_id AS id FROM checklist_items GROUP BY 1 HAVING count(*) >= 25 ORDER BY 1 LIMIT 1',
  );
  inspectionId = Number(row!.id);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await db?.close();
  await database?.drop();
});

const nodes = () =>
  [topology.primary, ...topology.replicas].map((n) => ({ name: n.name, adminUrl: n.adminUrl, port: n.port }));
const endpoint = (path: string): Promise<N1Report> =>
  checkEndpoint({
    urlsBySize: new Map(SIZES.map((k) => [k, `${app.url}${path.replaceAll('{K}', String(k))}`])),
    nodes: nodes(),
    role: 'app',
    database: database.name,
  });

describe('black-box (the app as a separate process, pg_stat_statements)', () => {
  test('media fetched per checklist item is flagged, one statement more per item', async () => {
    const report = await endpoint(`/inspections/${inspectionId}/media?items={K}`);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      exampleSql: 'SELECT id, url FROM media WHERE checklist_item_id = $1 ORDER BY id',
      countsBySize: { 5: 5, 25: 25 },
      slope: 1,
    });
    expect(report.findings[0]!.hint).toMatch(/= ANY\(\$1\)/);
  });

  test('media fetched in one batched query passes', async () => {
    const report = await endpoint(`/inspections/${inspectionId}/media-batched?items={K}`);
    expect(report.findings).toEqual([]);
    expect(report.shapes.map((s) => s.countsBySize)).toEqual([
      { 5: 1, 25: 1 },
      { 5: 1, 25: 1 },
    ]);
  });

  test('the inspector looked up per row is flagged; the join passes', async () => {
    const perRow = await endpoint('/inspections?limit={K}');
    expect(perRow.findings.map((f) => f.exampleSql)).toEqual(['SELECT name FROM inspectors WHERE id = $1']);
    expect((await endpoint('/inspections-joined?limit={K}')).findings).toEqual([]);
  });

  test('a fixed number of queries is not an N+1, however many', async () => {
    const report = await endpoint('/dashboard?limit={K}');
    expect(report.findings).toEqual([]);
    expect(report.shapes).toHaveLength(4);
  });

  test('each statement is attributed to the node that ran it: the app reads from the replicas', async () => {
    const { events } = await captureServerSide(
      nodes(),
      'app',
      () => fetch(`${app.url}/inspections-joined?limit=3`).then((r) => r.text()),
      database.name,
    );
    expect(events.map((e) => e.node).sort()).toEqual(
      topology.replicas.length > 0 ? [expect.stringMatching(/^replica\d$/)] : ['primary'],
    );
  });
});

describe('in-process (captureQueries over node-postgres)', () => {
  test('the N+1 is flagged with the call site in the app', async () => {
    const report = await checkOperation('mediaPerItem', (k) => service.mediaPerItem(db, inspectionId, k), SIZES, {
      nodes: nodes(),
    });
    expect(report.findings).toHaveLength(1);
    const [finding] = report.findings;
    expect(finding!.countsBySize).toEqual({ 5: 5, 25: 25 });
    expect(finding!.site).toMatch(/example\/src\/db\.ts:\d+$/);
    expect(finding!.exampleParams).toHaveLength(1);
  });

  test('the batched version and the join pass', async () => {
    expect(
      (await checkOperation('mediaBatched', (k) => service.mediaBatched(db, inspectionId, k), SIZES)).findings,
    ).toEqual([]);
    expect((await checkOperation('listJoined', (k) => service.listJoined(db, k), SIZES)).findings).toEqual([]);
  });

  test('the per-row lookup is flagged', async () => {
    const report = await checkOperation(
      'listWithInspectorPerRow',
      (k) => service.listWithInspectorPerRow(db, k),
      SIZES,
    );
    expect(report.findings.map((f) => f.exampleSql)).toEqual(['SELECT name FROM inspectors WHERE id = $1']);
  });
});

describe('nested N+1 (1 + K + K·M)', () => {
  test('each level is reported as its own shape: the items per inspection and the media per item', async () => {
    const report = await checkOperation(
      'checklistOverviewNested',
      (k) => service.checklistOverviewNested(db, k),
      SIZES,
    );
    expect(report.findings.map((f) => f.exampleSql)).toEqual([
      'SELECT count(*) AS n FROM media WHERE checklist_item_id = $1',
      'SELECT id FROM checklist_items WHERE inspection_id = $1 ORDER BY position',
    ]);
    const [perItem, perInspection] = report.findings as [N1Finding, N1Finding];
    expect(perInspection.slope).toBe(1);
    expect(perItem.slope).toBeGreaterThanOrEqual(10); // 10–30 items per inspection
  });
});

describe('matchers', () => {
  test('toHaveNoNPlusOne passes the fix and fails the N+1 with the shape and its counts', async () => {
    await expect((k: number) => service.mediaBatched(db, inspectionId, k)).toHaveNoNPlusOne({ sizes: SIZES });
    const failure = await expect((k: number) => service.mediaPerItem(db, inspectionId, k))
      .toHaveNoNPlusOne({ sizes: SIZES })
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect(failure?.message).toMatch(
      /expected no N\+1:\nN\+1 in .*1 more statement\(s\) per item\n {2}query: +SELECT id, url FROM media WHERE checklist_item_id = \$1 ORDER BY id.*\n {2}counts: +5 → 5, 25 → 25/s,
    );
  });

  test('toHaveQueryCount and toStayWithinQueryBudget count what a request ran', async () => {
    const joined = await captureQueries(() => service.listJoined(db, 10));
    expect(joined).toHaveQueryCount(1);
    expect(joined.events).toStayWithinQueryBudget({ maxQueries: 1, maxDbMs: 5000 });
    const perRow = await captureQueries(() => service.listWithInspectorPerRow(db, 10));
    expect(() => expect(perRow).toStayWithinQueryBudget({ maxQueries: 3 })).toThrow(
      /query budget broken: 11 statements > 3\n.*10 × SELECT name FROM inspectors WHERE id = \$1/s,
    );
    expect(() => expect(perRow).toHaveQueryCount(1)).toThrow(/expected 1 statements, received 11/);
  });
});

describe('the reference app caches in Redis', () => {
  test('a second read of an inspection is served from the cache: no statement reaches the database', async () => {
    const id = inspectionId + 1;
    const read = () =>
      captureServerSide(
        nodes(),
        'app',
        () => fetch(`${app.url}/inspections/${id}`).then((r) => r.json()),
        database.name,
      );
    const first = await read();
    expect(first.events.reduce((n, e) => n + e.calls, 0)).toBe(1);
    const second = await read();
    expect(second.events).toEqual([]);
    expect(second.value).toEqual(first.value);
  });
});

describe('ORMs over node-postgres', () => {
  test('a Knex query is captured in-process like any pg query, and its N+1 is flagged', async () => {
    const { default: knex } = await import('knex');
    const orm = knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 1 } });
    try {
      const perRow = async (k: number) => {
        const rows = await orm('inspections').select('id', 'inspector_id').orderBy('id').limit(k);
        for (const row of rows) await orm('inspectors').where({ id: row.inspector_id }).first('name');
      };
      const report = await checkOperation('knex per-row lookup', perRow, SIZES);
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]!.exampleSql).toMatch(/select "name" from "inspectors" where "id" = \$1 limit \$2/);
      await expect(async (k: number) => {
        await orm('inspections')
          .join('inspectors', 'inspectors.id', 'inspections.inspector_id')
          .select('inspections.id', 'inspectors.name')
          .limit(k);
      }).toHaveNoNPlusOne({ sizes: SIZES });
    } finally {
      await orm.destroy();
    }
  });
});
