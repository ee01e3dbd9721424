// "Zero-downtime migrations", rehearsed: the reference app's migration folders run against
// its seeded data (notes grown to 100,000 rows) while it takes writes at 50/s. The safe
// folder keeps every promise; in the unsafe one each statement breaks the promise it should,
// for its reason: the verdicts that fail are asserted by name and evidence, not only a FAIL.
// Rewrites, scans and locks are read in the statement's own transaction before it commits,
// so those reasons do not depend on the machine's speed; the lock-queue hazard is made with
// a read held for 1.5 s, far beyond the 200 ms budget, for the same reason.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { runSuite } from '../../harness/suite/index.ts';
import { scenarioSchema } from '../../load/scenario.ts';
import { tempDir } from '../../test/support/temp.ts';
import { verdictLines } from '../support/expect-verdicts.ts';
import { referenceTargets, resultsRun, runOn } from '../support/reference-target.ts';
import { GROW_NOTES } from './online-migration.ts';
import { migrationRehearsal } from './rehearsal.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const MIGRATIONS = fileURLToPath(new URL('../../example/migrations/', import.meta.url));
const targets = referenceTargets(topology, { app: {} });

/**
 * The runs below are shorter than the suite's defaults: each load starts 0.5–1 s before its
 * migration (the baseline before it is evidence, not judged) and ends a margin after it. Where
 * a verdict asserted is read from the requests the migration held up, the test also asserts
 * that the load outlasted the migration: a machine too slow for the margin fails saying so,
 * instead of judging fewer requests.
 */
const loadOutlasted = (result: Awaited<ReturnType<typeof runOn>>) =>
  expect(result.notes.filter((n) => n.startsWith('the migration outlasted the load'))).toEqual([]);

/** The verdict on `metric` for one statement (`001_x.sql#2`), or for the whole migration. */
const verdict = (result: Awaited<ReturnType<typeof runOn>>, metric: string, scope?: string) => {
  const found = result.verdicts.find(
    (v) => v.budget.metric === metric && (scope === undefined || v.budget.scope === scope),
  );
  if (!found) throw new Error(`no verdict on ${metric} ${scope ?? ''}:\n${verdictLines(result)}`);
  return found;
};

test('the safe migrations (constant default, CONCURRENTLY, NOT VALID then VALIDATE, SET NOT NULL through a CHECK) keep every promise', async () => {
  const result = await runOn(migrationRehearsal, targets.app, {
    migrations: path.join(MIGRATIONS, 'safe'),
    prepare: GROW_NOTES,
    // The 11 statements took 0.5–0.7 s here (beside npm test's other lane): a 5 s load with the
    // migration at 1 s (defaults 10 s, 2 s) outlasts them more than 4 times over.
    durationMs: 5000,
    migrationAtMs: 1000,
    cleanup: [
      'DROP INDEX IF EXISTS inspection_notes_created_at_idx',
      'ALTER TABLE inspection_notes DROP CONSTRAINT IF EXISTS inspection_notes_body_length, DROP COLUMN IF EXISTS reviewed',
    ],
  });
  expect(result.pass, `${verdictLines(result)}\n${result.notes.join('\n')}`).toBe(true);
  loadOutlasted(result);
  // VALIDATE read the whole table, but under SHARE UPDATE EXCLUSIVE, which blocks no write.
  expect(result.notes.find((n) => n.startsWith('003_body_length.sql#3'))).toMatch(/scanned inspection_notes/);
  expect(verdict(result, 'rewritesUnderLock', '003_body_length.sql#3').pass).toBe(true);
  expect(result.measurements.statements).toBe(11);
});

test('each unsafe migration fails for its own reason', async () => {
  const result = await runOn(migrationRehearsal, targets.app, {
    migrations: path.join(MIGRATIONS, 'unsafe'),
    prepare: GROW_NOTES,
    // Everything 1 s earlier than before (the read at 0.5 s, the migration at 1 s): the ADD
    // COLUMN still waits 1 s behind the 1.5 s read. The five files took 2.8–4.2 s here (beside
    // npm test's other lane), so the migration ends by ~5.3 s and an 8 s load (was 12) outlasts it.
    longReader: { table: 'inspection_notes', atMs: 500, holdMs: 1500 },
    migrationAtMs: 1000,
    durationMs: 8000,
    cleanup: [
      'DROP INDEX IF EXISTS inspection_notes_body_idx',
      'ALTER TABLE inspection_notes DROP COLUMN IF EXISTS flagged, DROP COLUMN IF EXISTS shard, ALTER COLUMN inspection_id TYPE bigint',
    ],
  });
  const lines = `${verdictLines(result)}\n${result.notes.join('\n')}`;
  expect(result.pass).toBe(false);
  loadOutlasted(result);
  // ADD COLUMN with no lock_timeout behind a 1.5 s read: it waits, and the app's writes queue behind it.
  const queued = verdict(result, 'appBlockedMs', '001_add_column_without_lock_timeout.sql#1');
  expect(queued.pass, lines).toBe(false);
  expect(queued.measured!).toBeGreaterThan(500);
  expect(queued.evidence).toMatch(/of the app's queries waited behind it .*it waited \d+ ms for its own lock/);
  expect(verdict(result, 'lockWithoutTimeout', '001_add_column_without_lock_timeout.sql#1')).toMatchObject({
    pass: false,
    evidence: expect.stringMatching(/AccessExclusiveLock on inspection_notes with lock_timeout 0/),
  });
  // The others set a lock_timeout: what breaks them is what they do under their lock.
  for (const [scope, evidence] of [
    ['002_volatile_default.sql#2', /^rewrote inspection_notes \(\d+ rows\) under AccessExclusiveLock/],
    ['003_plain_index.sql#2', /^scanned inspection_notes \(\d+ rows\) under ShareLock/],
    ['004_set_not_null.sql#2', /^scanned inspection_notes \(\d+ rows\) under AccessExclusiveLock/],
    ['005_alter_type.sql#2', /^rewrote inspection_notes \(\d+ rows\) under AccessExclusiveLock/],
  ] as const) {
    expect(verdict(result, 'rewritesUnderLock', scope), `${scope}\n${lines}`).toMatchObject({
      pass: false,
      evidence: expect.stringMatching(evidence),
    });
    expect(verdict(result, 'lockWithoutTimeout', scope).pass).toBe(true);
  }
  expect(verdict(result, 'failedStatements').pass).toBe(true);
});

test("a migration that fails in SQL is the migration's failure (the statement and the error), and an index it leaves invalid is named", async () => {
  const folder = tempDir('migrations');
  mkdirSync(path.join(folder, 'm'));
  // Notes per inspection are many: a unique index on inspection_id cannot be built, and CONCURRENTLY leaves it invalid.
  writeFileSync(
    path.join(folder, 'm', '001_unique.sql'),
    'CREATE UNIQUE INDEX CONCURRENTLY inspection_notes_inspection_uq ON inspection_notes (inspection_id);\n',
  );
  const result = await runOn(migrationRehearsal, targets.app, {
    migrations: path.join(folder, 'm'),
    prepare: GROW_NOTES,
    // What is asserted is the statement's error and the index it left, not the app's requests.
    durationMs: 2500,
    migrationAtMs: 500,
    cleanup: ['DROP INDEX IF EXISTS inspection_notes_inspection_uq'],
  });
  expect(verdict(result, 'failedStatements')).toMatchObject({
    pass: false,
    evidence: expect.stringMatching(/^001_unique\.sql#1 failed: could not create unique index/),
  });
  expect(verdict(result, 'invalidIndexes')).toMatchObject({
    pass: false,
    measured: 1,
    evidence: expect.stringMatching(/invalid: inspection_notes_inspection_uq/),
  });
});

test("the team's own migration command (psql here): its statements seen by sampling, the table it rewrote named", async () => {
  const result = await runOn(migrationRehearsal, targets.app, {
    command:
      'psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "ALTER TABLE inspection_notes ALTER COLUMN inspection_id TYPE numeric"',
    prepare: GROW_NOTES,
    // What is asserted is read from the tables' files and the samples, not from the app's requests.
    durationMs: 4000,
    migrationAtMs: 500,
    cleanup: ['ALTER TABLE inspection_notes ALTER COLUMN inspection_id TYPE bigint'],
  });
  const lines = `${verdictLines(result)}\n${result.notes.join('\n')}`;
  // Read from every table's file before and after the command, not from its speed.
  expect(verdict(result, 'rewritesUnderLock', 'command'), lines).toMatchObject({
    pass: false,
    evidence: expect.stringMatching(/^rewrote inspection_notes \(\d+ rows\) under AccessExclusiveLock/),
  });
  expect(verdict(result, 'failedStatements').pass, lines).toBe(true);
  // The ALTER ran long enough (a 100,000-row rewrite) to be seen in its session, with its lock.
  expect(
    result.notes.some((n) =>
      /^command#\d+ ALTER TABLE inspection_notes ALTER COLUMN inspection_id TYPE numeric: .*AccessExclusiveLock/.test(
        n,
      ),
    ),
    lines,
  ).toBe(true);
  // A command's lock_timeout cannot be read from outside its session: not judged, and said so.
  expect(result.verdicts.some((v) => v.budget.metric === 'lockWithoutTimeout')).toBe(false);
  expect(result.notes.at(-1)).toMatch(/its scans and its lock_timeout cannot be read from outside its sessions/);
});

test("the config's scenarios as the traffic: each judged on its own budgets, on the requests due while the migration ran", async () => {
  const folder = tempDir('migrations-scenarios');
  writeFileSync(path.join(folder, '001_wait.sql'), 'SELECT pg_sleep(0.5);\n');
  const scenarios = {
    // Passes: generous, and nothing here blocks a read.
    reads: scenarioSchema.parse({
      request: 'GET /inspections-joined?limit=5',
      rate: 30,
      budgets: 'p99=5s,errors=0,rps=1000',
    }),
    // Fails, and not for its speed: every request of it is a 404.
    missing: scenarioSchema.parse({ request: 'GET /no-such-page', rate: 20, budgets: 'errors=0' }),
  };
  const result = await runSuite(
    migrationRehearsal,
    { ...targets.app.context, scenarios },
    // The 0.5 s migration at 0.5 s: ~10 requests of each scenario overlap it, and the load goes on 1 s after.
    { migrations: folder, durationMs: 2000, migrationAtMs: 500 },
    { target: targets.app.name, run: await resultsRun() },
  );
  const lines = verdictLines(result);
  loadOutlasted(result);
  expect(verdict(result, 'p99Ms', 'scenario reads').pass, lines).toBe(true);
  expect(verdict(result, 'errors', 'scenario reads').pass, lines).toBe(true);
  // rps is the scenario's own run's to judge, not a rehearsal's.
  expect(result.verdicts.some((v) => v.budget.metric === 'rps')).toBe(false);
  const missing = verdict(result, 'errors', 'scenario missing');
  expect(missing.pass, lines).toBe(false);
  expect(missing.measured).toBeGreaterThanOrEqual(5);
  expect(missing.evidence).toMatch(/404/);
  // The write is not sent when the scenarios are the traffic.
  expect(result.verdicts.some((v) => v.budget.metric === 'errorsDuringMigration')).toBe(false);
  expect(result.timelines.map((t) => t.name)).toEqual(['scenario reads (30/s)', 'scenario missing (20/s)']);
});

test("a lock held past the app's write time-out while a replica is frozen: the writes fail and slow, the replica falls behind, each verdict says so", async () => {
  const folder = tempDir('migrations-long-lock');
  // The reference app gives up on a write after 2 s: a 3 s ACCESS EXCLUSIVE outlasts it.
  writeFileSync(
    path.join(folder, '001_long_lock.sql'),
    'BEGIN;\nLOCK TABLE inspection_notes IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(3);\nCOMMIT;\n',
  );
  const replica = topology.replicas[0]!;
  // Frozen, it replays nothing: every byte the writes before the migration wrote is lag, however fast the machine.
  await replica.pause();
  let result: Awaited<ReturnType<typeof runOn>>;
  try {
    result = await runOn(migrationRehearsal, targets.app, {
      migrations: folder,
      // The 3 s lock from 1 s to ~4.3 s (was from 1.5 s, in 6 s): the load still outlasts it by
      // ~1.2 s, and the second of writes before it (~50) is lag for the frozen replica.
      durationMs: 5500,
      migrationAtMs: 1000,
      budgets: { replicaLagBytes: 1 },
    });
  } finally {
    await replica.resume();
  }
  const lines = verdictLines(result);
  loadOutlasted(result);
  expect(verdict(result, 'errorsDuringMigration'), lines).toMatchObject({
    pass: false,
    evidence: expect.stringMatching(/last error/),
  });
  expect(verdict(result, 'errorsDuringMigration').measured!).toBeGreaterThan(0);
  expect(verdict(result, 'p99DuringMigrationMs').measured!).toBeGreaterThan(1000);
  // Behind by what it did not replay, or (once its walsender gave up on it, after 5 s) not streaming at all: never within budget.
  expect(verdict(result, 'replicaLagBytes')).toMatchObject({
    pass: false,
    evidence: expect.stringMatching(
      /^(the furthest replica was \d+ B of WAL behind|replica1 stopped streaming while the migration ran)/,
    ),
  });
  // What the statements did is content, not time: those verdicts hold (the lock has a table, no rewrite, no scan).
  expect(verdict(result, 'rewritesUnderLock', '001_long_lock.sql#2').pass, lines).toBe(true);
});

test("a command that never touches the rehearsal's database fails: none of its sessions was seen", async () => {
  const result = await runOn(migrationRehearsal, targets.app, {
    command: 'sleep 0.2',
    // Whether its sessions were seen is the whole claim: 1.5 s, the command at 0.5 s.
    durationMs: 1500,
    migrationAtMs: 500,
  });
  expect(verdict(result, 'commandUnseen'), verdictLines(result)).toMatchObject({
    pass: false,
    evidence: expect.stringMatching(
      /^no session with application_name dbproof-migration was ever seen: .*may have migrated another database/,
    ),
  });
  expect(verdict(result, 'failedStatements').pass).toBe(true);
});
