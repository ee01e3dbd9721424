// The Playwright fixture for teams (dbproof/playwright): while a page loads, count the API
// calls it makes and the database statements they cause. The reference app's inspections
// page comes in two variants: batched (one call for the list) passes; per-item (the list,
// then each row's status one by one) is flagged, call and statement alike.
import { startExampleApp } from '../../example/launch.ts';
import { inspections } from '../../fixtures/index.ts';
import { seedPrivateDatabase, type PrivateDatabase } from '../../fixtures/private-database.ts';
import { startTopology } from '../../harness/providers/index.ts';
import type { Topology } from '../../harness/topology/types.ts';
import { callShape, expect, test } from '../../harness/playwright/index.ts';

let topology: Topology;
let database: PrivateDatabase;
const apps: Record<'batched' | 'perItem', { url: string; stop(): Promise<void> }> = {} as never;

test.beforeAll(async () => {
  topology = await startTopology({ replicas: 0, redis: false });
  database = await seedPrivateDatabase(topology, inspections, { scale: 0.002, seed: 5 });
  [apps.batched, apps.perItem] = await Promise.all([
    startExampleApp({ DATABASE_URL: database.url }),
    startExampleApp({ DATABASE_URL: database.url, EXAMPLE_PAGE_BATCHED: 'off' }),
  ]);
});

test.afterAll(async () => {
  await Promise.all([apps.batched?.stop(), apps.perItem?.stop()]);
  await database?.drop();
  await topology?.stop();
});

const watch = () => ({
  nodes: [{ name: topology.primary.name, adminUrl: topology.primary.adminUrl }],
  role: 'app',
  database: database.name,
});
// Statements are counted for the app's role in this database only, on the topology's nodes
// (a fixture: the database is made in beforeAll).
// biome-ignore lint/correctness/noEmptyPattern: Playwright reads the fixture's dependencies from this pattern
test.use({ dbproofDatabase: async ({}, use) => use(watch()) });

test('one page load: every API call the page made, and the statements they caused', async ({ page, pageLoads }) => {
  const load = await pageLoads.measure(`${apps.perItem.url}/pages/inspections?limit=4`);
  await expect(page.locator('#inspections tbody tr')).toHaveCount(4);
  expect(load.apiCalls.map((c) => c.shape)).toEqual([
    'GET /inspections-joined?limit=',
    ...Array(4).fill('GET /inspections/{id}/status'),
  ]);
  // The list is one statement, each status one more.
  expect(load.statementCount).toBe(5);
});

test('the batched page makes one call at every size: no finding', async ({ pageLoads }) => {
  const report = await pageLoads.checkN1({
    url: (k) => `${apps.batched.url}/pages/inspections?limit=${k}`,
    sizes: [3, 12],
  });
  expect(report.findings).toEqual([]);
  expect(report.queryFindings).toEqual([]);
  expect(report.loads.map((l) => l.apiCalls.length)).toEqual([1, 1]);
  expect(report.loads.map((l) => l.statementCount)).toEqual([1, 1]);
});

test('the per-item page is flagged: a status call per row, and the statement each one causes', async ({
  pageLoads,
}) => {
  const report = await pageLoads.checkN1({
    url: (k) => `${apps.perItem.url}/pages/inspections?limit=${k}`,
    sizes: [3, 12],
  });
  expect(report.findings).toEqual([
    expect.objectContaining({ shape: 'GET /inspections/{id}/status', countsBySize: { 3: 3, 12: 12 }, slope: 1 }),
  ]);
  expect(report.findings[0]!.hint).toMatch(/once per item/);
  expect(report.queryFindings.map((f) => [f.exampleSql, f.countsBySize])).toEqual([
    ['SELECT id, status FROM inspections WHERE id = $1', { 3: 3, 12: 12 }],
  ]);
});

test('a page that says when it is ready (a selector) is measured from its load to that moment, every call answered', async ({
  pageLoads,
}) => {
  const report = await pageLoads.checkN1({
    url: (k) => `${apps.perItem.url}/pages/inspections?limit=${k}`,
    sizes: [3, 12],
    ready: 'body[data-loaded]',
  });
  expect(report.findings.map((f) => [f.shape, f.countsBySize])).toEqual([
    ['GET /inspections/{id}/status', { 3: 3, 12: 12 }],
  ]);
  expect(report.loads.map((l) => l.statementCount)).toEqual([4, 13]);
});

test('call shapes leave out ids and query values', () => {
  expect(callShape('GET', 'http://x/orders/12/lines/7?expand=1&b=2')).toBe('GET /orders/{id}/lines/{id}?b=&expand=');
  expect(callShape('POST', 'http://x/carts/3f2c1a9e-1b2c-4d5e-8f90-123456789abc')).toBe('POST /carts/{id}');
});
