// A compose command that does not end (a stuck engine) must not hang dbproof: it is stopped
// past its time-out and reported in one line that says where to look.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { runCompose } from '../../harness/providers/compose/compose-cli.ts';
import { isAlive } from '../support/processes.ts';
import { tempDir } from '../support/temp.ts';

test('a compose command still running past its time-out is killed and reported, naming what it was doing', async () => {
  const pidFile = path.join(tempDir('compose-timeout'), 'pid');
  const started = performance.now();
  await expect(
    // A child of its own that holds the pipe, as Compose v1's launcher has: it must go too.
    runCompose(['sh'], ['-c', `sleep 30 & echo $! > '${pidFile}'; wait`], {
      what: 'starting compose project dbproof-test',
      env: process.env,
      timeoutMs: 300,
    }),
  ).rejects.toThrow(
    /^starting compose project dbproof-test: Compose had not finished after 0 s and was stopped; check the Docker engine \(docker info\)$/,
  );
  // Well before the command's own 30 s, and its child is gone with it.
  expect(performance.now() - started).toBeLessThan(20_000);
  expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
});

test('a compose command that ends in time is not affected by its time-out; its failure is still its own words', async () => {
  await expect(
    runCompose(['sh'], ['-c', 'exit 0'], { what: 'listing', env: process.env, timeoutMs: 10_000 }),
  ).resolves.toBeUndefined();
  await expect(
    runCompose(['sh'], ['-c', 'echo "error: no such service" >&2; exit 3'], { what: 'listing', env: process.env }),
  ).rejects.toThrow(/no such service/);
});
