// `dbproof migrate-check`: the migration-rehearsal suite alone, its folder from the command
// line. A folder that is missing or empty is bad input (exit 2, one line, nothing started);
// a migration that fails in SQL is the migration's failure (exit 1, the statement and the
// error named), never dbproof's.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { writeReferenceConfig } from '../support/reference-config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('migrate-check');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
const { file: config, results } = writeReferenceConfig(dir, 'rehearsal', {
  topology: { replicas: 1, redis: false },
  suites: { 'migration-rehearsal': { migrations: 'no-such-folder', durationMs: 3000, migrationAtMs: 500 } },
});

/** A folder holding one migration, 001.sql, with this SQL. */
function sqlFolder(name: string, sql: string): string {
  const folder = path.join(dir, name);
  mkdirSync(folder);
  writeFileSync(path.join(folder, '001.sql'), sql);
  return folder;
}

test.each([
  [
    'a folder that does not exist',
    ['--migrations', path.join(dir, 'missing')],
    /no such folder .*missing; give the folder of your \.sql migrations/,
  ],
  [
    'a folder with no .sql file',
    ['--migrations', dir],
    /holds no \.sql file; a rehearsal needs at least one migration/,
  ],
  ["the config's folder when none is given, relative to the config", [], /no such folder .*no-such-folder/],
  ['an empty --migrations', ['--migrations', ' '], /--migrations needs a folder of \.sql migrations/],
  [
    'both --migrations and --command',
    ['--migrations', dir, '--command', 'true'],
    /give --migrations DIR or --command CMD, not both/,
  ],
  ['a command that is not there', ['--command', 'no-such-migrator up'], /no-such-migrator is not a command here/],
  [
    'a migration that is not SQL',
    ['--migrations', sqlFolder('broken', 'ALTER TABLE;\n')],
    /migration 001\.sql is not valid SQL: /,
  ],
  [
    'a file that ends inside its own BEGIN',
    ['--migrations', sqlFolder('open', 'BEGIN;\nALTER TABLE inspection_notes ADD COLUMN x int;\n')],
    /001\.sql ends inside its own BEGIN \(no COMMIT\)/,
  ],
])('%s: exit 2, one line, nothing started', async (_, args, message) => {
  const result = await runCli(['migrate-check', '--config', config, ...args]);
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
  expect(existsSync(results)).toBe(false);
});

test('a migration that fails in SQL: exit 1, the statement and the error, the statements before it judged', async () => {
  const folder = path.join(dir, 'failing');
  mkdirSync(folder);
  writeFileSync(
    path.join(folder, '001_ok.sql'),
    "SET lock_timeout = '1s';\nALTER TABLE inspection_notes ADD COLUMN tag text;\n",
  );
  writeFileSync(path.join(folder, '002_typo.sql'), 'ALTER TABLE inspection_note ADD COLUMN tag2 text;\n');
  const result = await runCli(['migrate-check', '--config', config, '--migrations', folder]);
  expect(result.code, result.stderr + result.stdout).toBe(1);
  expect(result.stdout).toMatch(/^FAIL migration-rehearsal$/m);
  expect(result.stdout).toMatch(
    /FAIL {2}the migrations in failing\/ complete — failedStatements 1 <= 0 \(margin -1\)\n\s+002_typo\.sql#1 failed: relation "inspection_note" does not exist: ALTER TABLE inspection_note ADD COLUMN tag2 text/,
  );
  expect(result.stdout).toMatch(/PASS {2}001_ok\.sql#2 takes its lock with a lock_timeout/);
}, 120_000);

test("the team's migration command failing: exit 1, its exit code and last output named", async () => {
  const result = await runCli([
    'migrate-check',
    '--config',
    config,
    '--command',
    'echo "could not reach the schema table" >&2; exit 3',
  ]);
  expect(result.code, result.stderr + result.stdout).toBe(1);
  expect(result.stdout).toMatch(
    /FAIL {2}`echo "could not reach the schema table" >&2; exit 3` completes — failedStatements 1 <= 0 \(margin -1\)\n\s+command failed: it exited with code 3; its last output: could not reach the schema table/,
  );
}, 120_000);
