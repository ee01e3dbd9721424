// "Zero-downtime migrations": a full-text index is built on a 100,000-row table while the
// app writes to it at 50/s. CREATE INDEX CONCURRENTLY must keep write p99 within 1 s with
// no errors; a plain CREATE INDEX on the same table blocks the writes (negative control).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { onlineMigration } from './online-migration.ts';
import { runOn, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
let app: ReferenceTarget;

beforeAll(async () => {
  app = await startReferenceTarget(topology);
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

// The write p99 budget of both tests: 1 s, not the suite's default 500 ms. On CI's machine
// (about 2.5 times slower than usual) the concurrent build's CPU competes with the writes on
// 2 cores, and the good app's write p99 measured 585 ms once in five runs, alone on the
// machine; writes blocked by a plain CREATE INDEX wait about as long as the build (seconds
// there, 1.8 s on a quiet machine), so 1 s still tells the two apart.
const budgets = { writeP99Ms: 1000 };

test('CREATE INDEX CONCURRENTLY under write load keeps write p99 within budget, with no errors', async () => {
  const result = await runOn(onlineMigration, app, { budgets });
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.measurements.writesDuringMigration).toBeGreaterThan(10);
});

test('a plain CREATE INDEX on the same table blocks the writes and fails the budget', async () => {
  const result = await runOn(onlineMigration, app, {
    statement:
      "CREATE INDEX inspection_notes_search_plain_idx ON inspection_notes USING gin (to_tsvector('simple', body))",
    cleanup: ['DROP INDEX IF EXISTS inspection_notes_search_plain_idx'],
    budgets,
  });
  const p99 = verdictOn(result, 'writeP99Ms');
  expect(p99.pass, verdictLines(result)).toBe(false);
  // Blocked writes wait about as long as the build: the lock, not the load, made them slow.
  expect(p99.measured!).toBeGreaterThan(result.measurements.migrationMs! / 2);
});

test('a migration that holds a write lock longer than the app waits makes writes fail: the error budget breaks', async () => {
  // 3 s under a SHARE lock whatever the machine's speed (a plain build's time is not: it took
  // 1.8 s on a quiet machine, under the app's 2 s write timeout).
  // 4.5 s with the lock at 0.5 s instead of 8 s with it at 1 s: the load still outlasts the
  // lock (over at ~3.5 s), and the writes due in its first second time out (2 s) inside it.
  const result = await runOn(onlineMigration, app, {
    statement: 'BEGIN; LOCK TABLE inspection_notes IN SHARE MODE; SELECT pg_sleep(3); COMMIT',
    migrationAtMs: 500,
    durationMs: 4500,
  });
  expect(result.measurements.migrationMs!).toBeGreaterThanOrEqual(3000);
  const errors = verdictOn(result, 'errorsDuringMigration');
  expect(errors.pass, verdictLines(result)).toBe(false);
  expect(errors.measured!).toBeGreaterThan(0);
});
