// Each test gets its own seeded database: writes in one test are never seen by another.
import pg from 'pg';
import { inspections } from '../../fixtures/index.ts';
import { expect, withDataset } from 'dbproof/vitest';

const test = withDataset(inspections, { scale: 0.002, seed: 7 });

async function count(url: string, sql: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return Number((await client.query(sql)).rows[0].count);
  } finally {
    await client.end();
  }
}

test('the clone holds the seeded rows and belongs to the app role', async ({ db }) => {
  expect(new URL(db.url).username).toBe('app');
  expect(await count(db.url, 'SELECT count(*) FROM inspections')).toBe(80);
  expect(
    await count(db.url, 'SELECT count(*) FROM checklist_items WHERE inspection_id NOT IN (SELECT id FROM inspections)'),
  ).toBe(0);
});

test('a test may write to its database freely', async ({ db }) => {
  await count(db.url, 'WITH d AS (DELETE FROM media RETURNING 1) SELECT count(*) FROM d');
  expect(await count(db.url, 'SELECT count(*) FROM media')).toBe(0);
});

test('and the next test starts from the seed again', async ({ db }) => {
  expect(await count(db.url, 'SELECT count(*) FROM media')).toBeGreaterThan(0);
});
