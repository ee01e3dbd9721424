import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
// @ts-expect-error: a script of the repository's, in JavaScript, with no declarations
import { failedTestsReader } from '../../scripts/failed-tests.mjs';

const CONFIG = fileURLToPath(new URL('./failed-tests-fixture/vitest.config.ts', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** vitest's output (stdout and stderr, as `npm test` gets them) for the fixtures, coloured or not. */
function vitestOutput(color: boolean): Promise<string> {
  // Not this run's worker variables: the child is a vitest run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VITEST, 'run', '--config', CONFIG],
      { env: { ...env, CI: '1', ...(color ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }) } },
      (_error, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
    );
  });
}

for (const color of [false, true]) {
  test(`names the failed test and its error's first line, the one that passed when retried, and no other (${color ? 'coloured' : 'plain'})`, async () => {
    const reader = failedTestsReader();
    for (const line of (await vitestOutput(color)).split('\n')) reader.feed(line);
    expect(reader.failures()).toEqual([
      {
        test: 'one-fails.fixture.ts > a suite > holds its budget',
        error: expect.stringMatching(/^AssertionError: write p99 in ms: expected 612 to be less than 500/),
      },
    ]);
    expect(reader.retried()).toEqual([
      {
        test: 'flaky.fixture.ts > holds its budget on its second attempt',
        error: 'AssertionError: attempt: expected 1 to be greater than 1',
      },
    ]);
  }, 60_000);
}

test('reads nothing from a run with no failure', () => {
  const reader = failedTestsReader();
  for (const line of [' ✓ a.test.ts (2 tests) 5ms', ' Test Files  1 passed (1)', ' FAIL is a word here'])
    reader.feed(line);
  expect(reader.failures()).toEqual([]);
  expect(reader.retried()).toEqual([]);
});
