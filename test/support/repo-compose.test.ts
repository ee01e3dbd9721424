// The lock on the repository's own compose project (repo-compose.ts): one holder at a time,
// and a holder that died does not keep it.
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { deadPid } from '../safety/process-support.ts';
import { holdRepoCompose, LOCK } from './repo-compose.ts';

test('a second holder waits until the first releases it', async () => {
  const release = await holdRepoCompose();
  let second: (() => void) | undefined;
  const waiting = holdRepoCompose().then((r) => {
    second = r;
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(second).toBeUndefined();
  release();
  await waiting;
  expect(second).toBeTypeOf('function');
  second!();
});

test('a lock whose holder died is taken over', async () => {
  const release = await holdRepoCompose();
  // Left as a killed holder leaves it: its pid, and no process of that pid.
  writeFileSync(path.join(LOCK, 'pid'), `${await deadPid()} stale`);
  const took = await holdRepoCompose();
  // The first holder's release no longer removes it: the lock is the second's now.
  release();
  expect(existsSync(LOCK)).toBe(true);
  took();
  expect(existsSync(LOCK)).toBe(false);
  // Made and never written (its maker died between the two), long ago: taken over too.
  mkdirSync(LOCK);
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(LOCK, longAgo, longAgo);
  (await holdRepoCompose())();
  expect(existsSync(LOCK)).toBe(false);
});
