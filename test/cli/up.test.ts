import { readdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { tempDir } from '../support/temp.ts';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { queryRows } from '../../harness/pg/client.ts';
import { runCli, startCli } from '../support/cli.ts';
import { isAlive, waitUntilGone } from '../support/processes.ts';

let stateDir: string;
const env = () => ({ DBPROOF_STATE_DIR: stateDir });

beforeEach(() => {
  stateDir = tempDir('state');
});
afterEach(async () => {
  await runCli(['down'], { env: env() });
  rmSync(stateDir, { recursive: true, force: true });
});

describe('dbproof up --json', () => {
  test('prints exactly one JSON object with usable URLs and every PID, and stops on SIGINT', async () => {
    const { child, firstLine } = await startCli(['up', '--json', '--replicas', '1'], { env: env() });
    const up = JSON.parse(firstLine) as {
      primary: string;
      replicas: string[];
      redis: string;
      admin: string;
      pids: number[];
    };
    expect(Object.keys(up).sort()).toEqual(['admin', 'pids', 'primary', 'redis', 'replicas']);
    expect(up.replicas).toHaveLength(1);
    expect(new URL(up.primary).password).not.toBe('');
    expect(await queryRows(up.primary, 'SELECT current_user AS who')).toEqual([{ who: 'app' }]);
    expect(await queryRows(up.replicas[0]!, 'SELECT pg_is_in_recovery() AS standby')).toEqual([{ standby: true }]);
    expect(up.pids.every(isAlive)).toBe(true);

    let stdout = firstLine;
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await waitUntilGone(up.pids, 10_000)).toEqual([]);
    // Nothing but the one object on stdout, even at shutdown.
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  test('SIGKILL of a foreground `up` still ends every process it started within 10 s', async () => {
    const { child, firstLine } = await startCli(['up', '--json'], { env: env() });
    const { pids } = JSON.parse(firstLine) as { pids: number[] };
    expect(pids).toHaveLength(5); // primary, 2 replicas, redis, watchdog
    child.kill('SIGKILL');
    expect(await waitUntilGone(pids, 10_000)).toEqual([]);
  });
});

describe('dbproof up --detach, status, down', () => {
  test('status reports each node; a killed replica shows as down while the others serve; down stops everything', async () => {
    const started = await runCli(['up', '--detach', '--json'], { env: env() });
    expect(started.code).toBe(0);
    const up = JSON.parse(started.stdout) as { primary: string; replicas: string[]; pids: number[] };
    const state = path.join(stateDir, 'state.json');
    expect(statSync(state).mode & 0o777).toBe(0o600);

    const healthy = await runCli(['status', '--json'], { env: env() });
    expect(healthy.code).toBe(0);
    const before = JSON.parse(healthy.stdout) as {
      nodes: {
        name: string;
        role: string;
        up: boolean;
        replication: string | null;
        pid: number;
        lagBytes: number | null;
        url: string;
      }[];
    };
    expect(before.nodes.map((n) => [n.name, n.role, n.up, n.replication])).toEqual([
      ['primary', 'primary', true, null],
      ['replica1', 'replica', true, 'streaming'],
      ['replica2', 'replica', true, 'streaming'],
      ['redis', 'redis', true, null],
    ]);
    // status shows no password.
    expect(healthy.stdout).not.toContain(new URL(up.primary).password);

    const replica1 = before.nodes.find((n) => n.name === 'replica1')!;
    process.kill(replica1.pid, 'SIGKILL');
    await waitUntilGone([replica1.pid], 5000);
    const degraded = await runCli(['status', '--json'], { env: env() });
    expect(degraded.code).toBe(1);
    const after = JSON.parse(degraded.stdout) as typeof before;
    expect(after.nodes.find((n) => n.name === 'replica1')!.up).toBe(false);
    expect(after.nodes.filter((n) => n.name !== 'replica1').every((n) => n.up)).toBe(true);
    expect(await queryRows(up.replicas[1]!, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);

    const human = await runCli(['status'], { env: env() });
    expect(human.stdout).toMatch(/replica1\s+-\s+-\s+\d+\s+down/);

    const stopped = await runCli(['down'], { env: env() });
    expect(stopped.code).toBe(0);
    expect(up.pids.filter(isAlive)).toEqual([]);
    expect(existsSync(state)).toBe(false);
  });

  test('a second `up` in the same place is refused while the first is up', async () => {
    expect((await runCli(['up', '--detach', '--replicas', '0', '--no-redis'], { env: env() })).code).toBe(0);
    const second = await runCli(['up', '--detach'], { env: env() });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/already up here .* `dbproof down`/);
  });

  test('SIGKILL of the keeper of a detached topology ends every process within 10 s', async () => {
    const started = await runCli(['up', '--detach', '--json'], { env: env() });
    const { pids } = JSON.parse(started.stdout) as { pids: number[] };
    const keeper = pids[0]!;
    process.kill(keeper, 'SIGKILL');
    expect(await waitUntilGone(pids, 10_000)).toEqual([]);
    // status sees the owner is gone rather than trusting a stale file.
    expect((await runCli(['status'], { env: env() })).code).toBe(1);
  });

  test('status and down with nothing up say so', async () => {
    const status = await runCli(['status'], { env: env() });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/no topology is up here.*dbproof up --detach/);
    const down = await runCli(['down'], { env: env() });
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/nothing to stop/);
  });
});

describe('a crashed run', () => {
  test('its leftover run directory is removed by the next run', async () => {
    const { baseDir } = await import('../../harness/providers/native/run-dir.ts');
    const runs = path.join(baseDir(), 'runs');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const stale = path.join(runs, '999999-deadbeef');
    mkdirSync(path.join(stale, 'primary'), { recursive: true });
    writeFileSync(path.join(stale, 'owner.json'), JSON.stringify({ pid: 999_999, startTime: 1 }));
    const result = await runCli(['exec', '--replicas', '0', '--no-redis', '--', 'true'], { env: env() });
    expect(result.code).toBe(0);
    expect(readdirSync(runs)).not.toContain('999999-deadbeef');
  });
});
