import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
// @ts-expect-error: a script of the repository's, in JavaScript, with no declarations
import { failedTestsReader } from '../../scripts/failed-tests.mjs';

const CONFIG = fileURLToPath(new URL('./failed-tests-fixture/vitest.config.ts', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** vitest's output for the fixtures, coloured or not: stdout and stderr, each as `npm test` reads it. */
function vitestOutput(color: boolean): Promise<[string, string]> {
  // Not this run's worker variables: the child is a vitest run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VITEST, 'run', '--config', CONFIG],
      { env: { ...env, CI: '1', ...(color ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }) } },
      (_error, stdout, stderr) => resolve([stdout, stderr]),
    );
  });
}

for (const color of [false, true]) {
  test(`names each failed test once with its error's first line, and each that passed when retried (${color ? 'coloured' : 'plain'})`, async () => {
    const [stdout, stderr] = await vitestOutput(color);
    const readers = [failedTestsReader(), failedTestsReader()];
    for (const [i, stream] of [stdout, stderr].entries()) for (const line of stream.split('\n')) readers[i].feed(line);
    const failures = readers.flatMap((reader) => reader.failures());
    expect(failures).toEqual(
      expect.arrayContaining([
        // The same error on both attempts: printed once for both, said once.
        {
          test: 'one-fails.fixture.ts > a suite > holds its budget',
          error: expect.stringMatching(/^AssertionError: write p99 in ms: expected 612 to be less than 500$/),
        },
        // One error for two tests: each named.
        { test: 'shared-error.fixture.ts > a hook that fails > first', error: 'Error: the topology did not start' },
        { test: 'shared-error.fixture.ts > a hook that fails > second', error: 'Error: the topology did not start' },
        // A different error on each attempt: one test, both errors.
        {
          test: 'shared-error.fixture.ts > breaks its budget on both attempts',
          error:
            'AssertionError: write p99 in ms: expected 601 to be less than 500; then: AssertionError: write p99 in ms: expected 602 to be less than 500',
        },
      ]),
    );
    expect(failures).toHaveLength(4);
    expect(readers.flatMap((reader) => reader.retried())).toEqual([
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
