// Issue 12, items 14 and 15: n1 and exec refuse bad input before anything (a state check,
// a topology), and a database that is not there is one line, not a stack trace.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { freePort } from '../../harness/providers/native/ports.ts';
import { tempDir } from '../support/temp.ts';
import { REFUSED, refusal, runCliWithin } from './validation-support.ts';

const stateDir = tempDir('validation-state');
const runsDir = tempDir('validation-runs');
// No topology is up here: a check that came after the state check would say so instead.
const env = { DBPROOF_STATE_DIR: stateDir, DBPROOF_TMPDIR: runsDir };
// A native topology, even one started and stopped again, leaves its cache and runs folders here.
const nothingStarted = () => readdirSync(runsDir);

describe('n1 refuses bad sizes before anything else', () => {
  test.each([
    [
      ['http://127.0.0.1:1/x?limit={K}', '--sizes', '5'],
      /--sizes: an N\+1 check needs at least two sizes \(got 5\), e\.g\. --sizes 5,25/,
    ],
    [
      ['http://127.0.0.1:1/x?limit={K}', '--sizes', '25,5'],
      /--sizes: sizes must be strictly increasing \(got 25,5\), e\.g\. --sizes 5,25/,
    ],
    [['http://127.0.0.1:1/x?limit={K}', '--sizes', '5,5'], /--sizes: sizes must be strictly increasing \(got 5,5\)/],
    [['http://127.0.0.1:1/x?limit={K}', '--sizes', '0,5'], /--sizes: sizes are whole numbers from 1 \(got 0,5\)/],
    [
      ['--at', '5=http://127.0.0.1:1/a', '--at', '5=http://127.0.0.1:1/b'],
      /--at: sizes must be strictly increasing \(got 5,5\), e\.g\. --at 5=URL --at 25=URL/,
    ],
    [['--at', '5=http://127.0.0.1:1/a'], /--at: an N\+1 check needs at least two sizes \(got 5\)/],
  ])('n1 %j', async (args, message) => {
    const result = await runCliWithin(['n1', ...args], 30_000, { env });
    expect(refusal(result), result.stderr).toEqual(REFUSED);
    expect(result.stderr).toMatch(message);
  });
});

test('n1 --db-url where nothing listens: one line naming the URL (password hidden) and what to check, exit 2', async () => {
  const port = await freePort();
  const result = await runCliWithin(
    ['n1', 'http://127.0.0.1:1/x?limit={K}', '--db-url', `postgres://watcher:s3cret-pw@127.0.0.1:${port}/app`],
    30_000,
    { env },
  );
  expect(refusal(result), result.stderr).toEqual(REFUSED);
  expect(result.stderr).toMatch(
    new RegExp(
      `could not connect to postgres://watcher:\\*+@127\\.0\\.0\\.1:${port}/app \\(connection refused\\): check that the database is running and its URL's host, port, user and password`,
    ),
  );
  expect(result.stderr).not.toContain('s3cret-pw');
});

describe('exec refuses a command that cannot run before starting a topology (exit 2)', () => {
  test.each([
    [['/nonexistent/bin/tool'], /exec: no such command \/nonexistent\/bin\/tool/],
    [['dbproof-no-such-command', '--flag'], /exec: command not found on PATH: dbproof-no-such-command/],
    [['/etc/passwd'], /exec: \/etc\/passwd is not executable/],
    [['/tmp'], /exec: \/tmp is not executable/],
  ])('exec -- %j', async (command, message) => {
    const result = await runCliWithin(['exec', '--replicas', '0', '--no-redis', '--', ...command], 30_000, { env });
    expect(refusal(result), result.stderr).toEqual(REFUSED);
    expect(result.stderr).toMatch(message);
    expect(nothingStarted()).toEqual([]);
  });
});
