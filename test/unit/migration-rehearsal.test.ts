// The migration rehearsal's pure parts: a migration file split into the statements Postgres
// sees (by the parser's own byte locations), which of them dbproof may wrap in a transaction
// to read what they did, and which of the app's lock waits each statement caused.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveSuiteOptions } from '../../harness/suite/index.ts';
import { blockedApp, type ActivitySample } from '../../suites/migration/lock-waits.ts';
import { onlineMigration } from '../../suites/migration/online-migration.ts';
import { migrationRehearsal } from '../../suites/migration/rehearsal.ts';
import { checkMigrationCommand, migrationEnv } from '../../suites/migration/command.ts';
import { migrationFiles, readMigrations, splitStatements } from '../../suites/migration/sql-files.ts';
import { tempDir } from '../support/temp.ts';

describe('splitStatements', () => {
  test('each statement with its kind; multi-byte text before a statement does not shift the next one', async () => {
    const statements = await splitStatements(
      "-- café ☕\nSET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN x int DEFAULT 0; -- done\nCREATE INDEX CONCURRENTLY i ON t (x);\n",
      '001.sql',
    );
    expect(statements.map((s) => [s.index, s.kind, s.sql, s.wrappable])).toEqual([
      // The comment before a statement is not part of it.
      [1, 'VariableSetStmt', "SET lock_timeout = '1s'", true],
      [2, 'AlterTableStmt', 'ALTER TABLE t ADD COLUMN x int DEFAULT 0', true],
      // Refused in a transaction block: run as it is, its locks read from the samples.
      [3, 'IndexStmt', 'CREATE INDEX CONCURRENTLY i ON t (x)', false],
    ]);
  });

  test("statements in the file's own transaction are not wrapped again; the transaction's ends are marked", async () => {
    const statements = await splitStatements('BEGIN; ALTER TABLE t ADD COLUMN y int; COMMIT; VACUUM t;', '002.sql');
    expect(statements.map((s) => [s.kind, s.transaction, s.wrappable])).toEqual([
      ['TransactionStmt', 1, false],
      ['AlterTableStmt', 0, false],
      ['TransactionStmt', -1, false],
      ['VacuumStmt', 0, false],
    ]);
  });

  test('statements Postgres refuses in a transaction block are never wrapped; ANALYZE alone is', async () => {
    const statements = await splitStatements(
      'REINDEX DATABASE app; REINDEX SCHEMA public; REINDEX TABLE t; CLUSTER; CLUSTER t USING i; DROP TABLESPACE x; DISCARD ALL; VACUUM t; ANALYZE t;',
      '003.sql',
    );
    expect(statements.map((s) => s.wrappable)).toEqual([false, false, true, false, true, false, false, false, true]);
  });

  test("savepoints stay inside the file's transaction: ROLLBACK TO does not end it", async () => {
    const statements = await splitStatements(
      'BEGIN; SAVEPOINT a; ALTER TABLE t ADD b int; ROLLBACK TO SAVEPOINT a; ALTER TABLE t ADD c int; RELEASE a; COMMIT;',
      '004.sql',
    );
    expect(statements.map((s) => [s.transaction, s.wrappable])).toEqual([
      [1, false],
      [0, false],
      [0, false],
      [0, false],
      // Still in the file's transaction: dbproof's own BEGIN and COMMIT here would commit it halfway.
      [0, false],
      [0, false],
      [-1, false],
    ]);
  });

  test('a file that is not SQL is a usage error naming it', async () => {
    await expect(splitStatements('ALTER TABLE', 'broken.sql')).rejects.toThrow(
      /^migration broken\.sql is not valid SQL: /,
    );
  });
});

describe('the migrations folder', () => {
  test('its .sql files in name order; a missing or empty folder is refused in one line', async () => {
    const dir = tempDir('migrations-unit');
    expect(() => migrationFiles(path.join(dir, 'none'))).toThrow(/migrations: no such folder .*none; give the folder/);
    mkdirSync(path.join(dir, 'm'));
    writeFileSync(path.join(dir, 'm', 'README.md'), '# notes\n');
    expect(() => migrationFiles(path.join(dir, 'm'))).toThrow(/holds no \.sql file/);
    writeFileSync(path.join(dir, 'm', '010_b.sql'), 'SELECT 2;');
    writeFileSync(path.join(dir, 'm', '002_a.sql'), 'SELECT 1;');
    expect(migrationFiles(path.join(dir, 'm'))).toEqual(['002_a.sql', '010_b.sql']);
    expect((await readMigrations(path.join(dir, 'm'))).map((s) => `${s.file}#${s.index}`)).toEqual([
      '002_a.sql#1',
      '010_b.sql#1',
    ]);
    writeFileSync(path.join(dir, 'm', '020_open.sql'), 'BEGIN; ALTER TABLE t ADD d int;');
    await expect(readMigrations(path.join(dir, 'm'))).rejects.toThrow(
      /020_open\.sql ends inside its own BEGIN \(no COMMIT\)/,
    );
  });
});

describe("the team's migration command", () => {
  test('gets the rehearsal database in every variable it may read, libpq PG* variables overridden, application_name set', () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      PGHOST: 'prod.example',
      PGDATABASE: 'orders',
      PGSERVICE: 'prod',
      DATABASE_URL: 'postgres://x@prod/orders',
    });
    try {
      const env = migrationEnv('postgres://app:s3cr3t%2F@127.0.0.1:5544/rehearsal', ['DATABASE_URL', 'PG_URL']);
      expect(env).toMatchObject({
        DATABASE_URL: 'postgres://app:s3cr3t%2F@127.0.0.1:5544/rehearsal?application_name=dbproof-migration',
        PG_URL: 'postgres://app:s3cr3t%2F@127.0.0.1:5544/rehearsal?application_name=dbproof-migration',
        PGHOST: '127.0.0.1',
        PGPORT: '5544',
        PGUSER: 'app',
        PGPASSWORD: 's3cr3t/',
        PGDATABASE: 'rehearsal',
        PGAPPNAME: 'dbproof-migration',
      });
      // A service file entry would point libpq elsewhere: it does not reach the command.
      expect(env.PGSERVICE).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });

  test('is looked up before anything starts: a program that is not there is refused in one line', () => {
    const dir = tempDir('migration-command');
    expect(() => checkMigrationCommand('no-such-migrator up', dir)).toThrow(
      /^invalid option suites\.migration-rehearsal\.command: no-such-migrator is not a command here/,
    );
    expect(() => checkMigrationCommand('FOO=1 ./migrate.sh', dir)).toThrow(/\.\/migrate\.sh is not a command here/);
    // On PATH, after assignments, or a shell word: accepted.
    expect(() => checkMigrationCommand('NODE_ENV=test npm run migrate', dir)).not.toThrow();
    expect(() => checkMigrationCommand('cd db && ./migrate.sh', dir)).not.toThrow();
  });
});

test('a migration set to start after the load has ended is refused: no request would be there to hold up', () => {
  expect(() => resolveSuiteOptions(migrationRehearsal, { durationMs: 4000, migrationAtMs: 4000 })).toThrow(
    /^invalid option suites\.migration-rehearsal\.migrationAtMs: migrationAtMs must come before durationMs ends/,
  );
  expect(() => resolveSuiteOptions(migrationRehearsal, { durationMs: 4000, migrationAtMs: 3999 })).not.toThrow();
  // online-migration's, the same.
  expect(() => resolveSuiteOptions(onlineMigration, { durationMs: 4000, migrationAtMs: 5000 })).toThrow(
    /^invalid option suites\.online-migration\.migrationAtMs: migrationAtMs must come before durationMs ends/,
  );
});

describe('blockedApp', () => {
  const wait = (pid: number, blockers: number[], waitedMs: number, user = 'app') => ({
    pid,
    user,
    queryStart: `q${pid}`,
    waitedMs,
    blockers,
  });
  const windows = [
    { index: 0, start: 0, end: 100 },
    { index: 1, start: 110, end: 300 },
  ];
  const MIGRATION = new Set([7]);

  test("the app's waits behind the statement that ran when they were seen, the longest as last seen, each wait once", () => {
    const samples: ActivitySample[] = [
      { t: 50, waits: [] },
      { t: 150, waits: [wait(11, [7], 20), wait(7, [99], 40, 'dbproof')] },
      { t: 170, waits: [wait(11, [7], 40), wait(12, [7, 11], 10)] },
      { t: 290, waits: [wait(12, [11], 130), wait(11, [7], 160)] },
    ];
    expect(blockedApp(samples, windows, MIGRATION, 'app')).toEqual(
      new Map([
        [0, { sessions: 0, maxMs: 0, totalMs: 0 }],
        [1, { sessions: 2, maxMs: 160, totalMs: 290 }],
      ]),
    );
  });

  test('a wait behind a session the migration blocks is the migration’s (the lock queue); others are not', () => {
    const samples: ActivitySample[] = [
      // 13 waits for 12, which waits for the migration: queued behind it all the same. 14 waits for someone else.
      { t: 20, waits: [wait(12, [7], 30), wait(13, [12], 25), wait(14, [99], 500)] },
    ];
    expect(blockedApp(samples, windows, MIGRATION, 'app').get(0)).toEqual({ sessions: 2, maxMs: 30, totalMs: 55 });
  });

  test("dbproof's own sessions (a held reader) and samples between statements are not counted", () => {
    const samples: ActivitySample[] = [
      { t: 60, waits: [wait(20, [7], 300, 'dbproof')] },
      { t: 105, waits: [wait(21, [7], 300)] },
    ];
    expect(blockedApp(samples, windows, MIGRATION, 'app').get(0)).toEqual({ sessions: 0, maxMs: 0, totalMs: 0 });
  });
});
