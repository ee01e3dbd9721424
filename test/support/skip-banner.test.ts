// The banner at the end of `vitest run`: how many tests were skipped on this machine, for
// which reason and what would run them, counted from the skipped tests themselves. Runs
// vitest on a small project of its own (skip-banner-fixture/) with the reporter.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const CONFIG = fileURLToPath(new URL('./skip-banner-fixture/vitest.config.ts', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** The banner's lines when vitest runs the fixture files matching `filter`. */
async function bannerOf(filter: string): Promise<string[]> {
  // Not this run's worker variables: the child is a vitest run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const { stdout } = await promisify(execFile)(process.execPath, [VITEST, 'run', '--config', CONFIG, filter], {
    env: { ...env, NO_COLOR: '1', CI: '1' },
  });
  expect(stdout).toMatch(/Tests {2}\d+ passed/);
  return stdout.split('\n').filter((line) => line.startsWith('!!!'));
}

test('counts the skipped tests by their reason, says what runs them, and leaves plain skips out', async () => {
  expect(await bannerOf('skipped-for-reasons')).toEqual([
    expect.stringMatching(/^!+$/),
    '!!! 2 tests SKIPPED: no engine here',
    '!!!   to run them: start one',
    '!!! 1 test SKIPPED: no image',
    '!!!   to run it: build it',
    '!!! 1 test SKIPPED: no quota on this file system',
    expect.stringMatching(/^!+$/),
  ]);
}, 60_000);

test('prints no banner when no test was skipped for a reason', async () => {
  expect(await bannerOf('plain-skips')).toEqual([]);
}, 60_000);
