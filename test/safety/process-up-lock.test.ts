import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
  for (const pid of keepers.splice(0).filter(isAlive)) {
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGCONT'); // one this file froze
  }
});

async function poll<T>(find: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

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
    const result = await runCli(['up', '--detach', '--replicas', '0', '--no-redis'], {
      env: { DBPROOF_STATE_DIR: stateDir },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('`down` while an `up` is still starting stops it (it holds the lock, there is no state yet)', async () => {
    stateDir = tempDir('lock-state');
    const env = { DBPROOF_STATE_DIR: stateDir };
    const upDone = runCli(['up', '--detach', '--json', '--replicas', '1', '--no-redis'], { env });
    const lock = path.join(stateDir, 'up.lock');
    const keeper = await poll(() =>
      existsSync(lock) ? (JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid : undefined,
    );
    // Frozen while starting, so that `down` finds no state however long it takes to run.
    process.kill(keeper, 'SIGSTOP');
    keepers.push(keeper);
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
    const downDone = runCli(['down'], { env });
    // Thawed once `down`'s SIGTERM is pending (bit 15 of the shared pending-signal mask).
    await poll(() =>
      (BigInt(`0x${/ShdPnd:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${keeper}/status`, 'utf8'))![1]}`) >> 14n) & 1n
        ? true
        : undefined,
    );
    process.kill(keeper, 'SIGCONT');

    const stopped = await downDone;
    expect(stopped.stdout).toMatch(/stopped/);
    expect(stopped.code).toBe(0);
    const up = await upDone;
    const pids = up.code === 0 ? (JSON.parse(up.stdout) as { pids: number[] }).pids : [keeper];
    expect(await waitUntilGone(pids, 10_000)).toEqual([]);
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
  });

  test('the state directory keeps itself out of git (it holds passwords)', async () => {
    stateDir = path.join(tempDir('lock-project'), '.dbproof');
    const result = await runCli(['up', '--detach', '--replicas', '0', '--no-redis'], {
      env: { DBPROOF_STATE_DIR: stateDir },
    });
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(stateDir, '.gitignore'), 'utf8')).toBe('*\n');
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });
});
