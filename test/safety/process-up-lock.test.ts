import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { isAlive, waitUntilGone } from '../support/processes.ts';
import { deadPid } from './process-support.ts';

let stateDir: string;
const keepers: number[] = [];
afterEach(async () => {
  if (stateDir) await runCli(['down'], { env: { DBPROOF_STATE_DIR: stateDir } });
  // A second topology that should have been refused is not in the state file: stop it too.
  for (const pid of keepers.splice(0).filter(isAlive)) process.kill(pid, 'SIGTERM');
});

describe('one topology per state directory', () => {
  test('two `up --detach` started together: one runs, the other is refused with one line, and `down` leaves nothing', async () => {
    stateDir = tempDir('lock-state');
    const env = { DBPROOF_STATE_DIR: stateDir };
    const args = ['up', '--detach', '--json', '--replicas', '0', '--no-redis'];
    const results = await Promise.all([runCli(args, { env }), runCli(args, { env })]);

    const winners = results.filter((r) => r.code === 0);
    keepers.push(...winners.map((r) => (JSON.parse(r.stdout) as { pids: number[] }).pids[0]!));
    const losers = results.filter((r) => r.code !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.code).toBe(2);
    expect(losers[0]!.stderr).toMatch(/^dbproof: a topology is already (up|starting) here .*`dbproof down`/);
    expect(losers[0]!.stderr.trim().split('\n')).toHaveLength(1);

    const { pids } = JSON.parse(winners[0]!.stdout) as { pids: number[] };
    expect(pids.every(isAlive)).toBe(true);
    expect((await runCli(['down'], { env })).code).toBe(0);
    expect(await waitUntilGone(pids, 10_000)).toEqual([]);
    // And the state directory is free again.
    const again = await runCli(args, { env });
    expect(again.code).toBe(0);
  });

  test('a lock left by an owner that is gone (SIGKILLed) does not block the next `up`', async () => {
    stateDir = tempDir('lock-state');
    writeFileSync(path.join(stateDir, 'up.lock'), JSON.stringify({ pid: await deadPid(), startTime: 1 }));
    const result = await runCli(['up', '--detach', '--replicas', '0', '--no-redis'], { env: { DBPROOF_STATE_DIR: stateDir } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('the state directory keeps itself out of git (it holds passwords)', async () => {
    stateDir = path.join(tempDir('lock-project'), '.dbproof');
    const result = await runCli(['up', '--detach', '--replicas', '0', '--no-redis'], { env: { DBPROOF_STATE_DIR: stateDir } });
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(stateDir, '.gitignore'), 'utf8')).toBe('*\n');
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });
});
