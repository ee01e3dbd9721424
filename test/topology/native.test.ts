import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTopology, type Topology } from '../../harness/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { processesUnder } from '../../harness/process/node-processes.mjs';
import { findPostgresBinaries, findRedisServer } from '../../harness/providers/native/binaries.ts';
import { postgresProgram } from '../../harness/providers/native/postgres-process.ts';
import { isAlive } from '../support/processes.ts';

/** The executables of the servers a native topology runs (what processesUnder looks for). */
const SERVERS = [postgresProgram(findPostgresBinaries()), findRedisServer()];

async function scalar<T>(url: string, sql: string, values: unknown[] = []): Promise<T> {
  const [row] = await queryRows(url, sql, values);
  return Object.values(row!)[0] as T;
}

describe('a native topology', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ replicas: 2 });
  });
  afterAll(() => topology?.stop());

  test('a row written on the primary is read on every replica', async () => {
    await queryRows(topology.primary.url, 'CREATE TABLE inspections (id int PRIMARY KEY, site text)');
    await queryRows(topology.primary.url, "INSERT INTO inspections VALUES (1, 'dock 4')");
    for (const replica of topology.replicas) {
      await replica.waitForCatchup(10_000);
      expect(await scalar(replica.url, 'SELECT site FROM inspections WHERE id = 1')).toBe('dock 4');
    }
  });

  test('replicas are read-only standbys that stream from the primary', async () => {
    expect(await topology.primary.isInRecovery()).toBe(false);
    for (const replica of topology.replicas) expect(await replica.isInRecovery()).toBe(true);
    const rows = await queryRows<{ application_name: string; state: string }>(
      topology.adminUrl,
      'SELECT application_name, state FROM pg_stat_replication ORDER BY 1',
    );
    expect(rows).toEqual([
      { application_name: 'replica1', state: 'streaming' },
      { application_name: 'replica2', state: 'streaming' },
    ]);
    await expect(queryRows(topology.replicas[0]!.url, 'CREATE TABLE nope (id int)')).rejects.toThrow(/read-only/);
  });

  test('the app role owns database app and can create databases but is not a superuser', async () => {
    const [role] = await queryRows(
      topology.primary.url,
      'SELECT current_user AS name, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user',
    );
    expect(role).toEqual({ name: 'app', rolsuper: false, rolcreatedb: true });
    expect(
      await scalar(
        topology.primary.url,
        'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()',
      ),
    ).toBe('app');
    expect(await scalar(topology.adminUrl, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).toBe(true);
  });

  test('pg_stat_statements is preloaded and installed in the app database', async () => {
    expect(await scalar(topology.adminUrl, 'SHOW shared_preload_libraries')).toContain('pg_stat_statements');
    const adminOnApp = new URL(topology.adminUrl);
    adminOnApp.pathname = '/app';
    expect(Number(await scalar(adminOnApp.toString(), 'SELECT count(*) FROM pg_stat_statements'))).toBeGreaterThan(0);
  });

  test('every node listens on 127.0.0.1 only and never trusts a connection', async () => {
    for (const node of [topology.primary, ...topology.replicas]) {
      expect(new URL(node.url).hostname).toBe('127.0.0.1');
      expect(await scalar(node.adminUrl, 'SHOW listen_addresses')).toBe('127.0.0.1');
      expect(
        Number(await scalar(node.adminUrl, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'")),
      ).toBe(0);
    }
  });

  test('a wrong password is refused', async () => {
    const wrong = new URL(topology.primary.url);
    wrong.password = 'not-the-password';
    await expect(queryRows(wrong.toString(), 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
  });

  test('each run generates its own passwords', async () => {
    const other = await startTopology({ replicas: 0, redis: false });
    try {
      expect(new URL(other.primary.url).password).not.toBe(new URL(topology.primary.url).password);
      expect(new URL(other.adminUrl).password).not.toBe(new URL(topology.adminUrl).password);
    } finally {
      await other.stop();
    }
  });

  test('Redis answers with its password and refuses without it', async () => {
    const url = new URL(topology.redis!.url);
    expect(url.hostname).toBe('127.0.0.1');
    const withPassword = new Redis(topology.redis!.url);
    expect(await withPassword.ping()).toBe('PONG');
    withPassword.disconnect();
    url.password = '';
    const without = new Redis(url.toString(), { maxRetriesPerRequest: 0, retryStrategy: () => null });
    without.on('error', () => {});
    await expect(without.ping()).rejects.toThrow(/NOAUTH/);
    without.disconnect();
  });
});

describe('replica faults', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ replicas: 2, redis: false });
    await queryRows(topology.primary.url, 'CREATE TABLE scans (id serial PRIMARY KEY, payload text)');
  });
  afterAll(() => topology?.stop());

  test('a killed replica is gone while the other keeps serving, and comes back streaming after start()', async () => {
    const [victim, survivor] = topology.replicas as [Topology['primary'], Topology['primary']];
    const pid = victim.pid!;
    const dataDir = (victim as unknown as { dataDir: string }).dataDir;
    expect(processesUnder(dataDir, SERVERS).length).toBeGreaterThan(3); // postmaster, walreceiver, startup, checkpointer…
    await victim.kill();
    expect(isAlive(pid)).toBe(false);
    expect(processesUnder(dataDir, SERVERS)).toEqual([]);
    await expect(queryRows(victim.url, 'SELECT 1', [], 1000)).rejects.toThrow();
    expect(await scalar(survivor.url, 'SELECT 1')).toBe(1);

    await queryRows(topology.primary.url, "INSERT INTO scans (payload) VALUES ('while replica1 was down')");
    await victim.start();
    await victim.waitForCatchup(20_000);
    expect(await scalar(victim.url, "SELECT count(*)::int FROM scans WHERE payload = 'while replica1 was down'")).toBe(
      1,
    );
  });

  test('a paused replica falls behind while the primary writes, and catches up after resume()', async () => {
    const replica = topology.replicas[1]!;
    await replica.waitForCatchup(10_000);
    await replica.pause();
    try {
      await queryRows(
        topology.primary.url,
        "INSERT INTO scans (payload) SELECT repeat('x', 200) FROM generate_series(1, 5000)",
      );
      expect(await replica.lagBytes()).toBeGreaterThan(100_000);
      // Frozen, not dead: the process is still there and a connection gets no answer.
      expect(isAlive(replica.pid!)).toBe(true);
      await expect(queryRows(replica.url, 'SELECT 1', [], 500)).rejects.toThrow();
    } finally {
      await replica.resume();
    }
    await replica.waitForCatchup(20_000);
    // Not exactly 0: the primary may log a running-transactions record of its own at any moment.
    expect(await replica.lagBytes()).toBeLessThan(8192);
    expect(await scalar(replica.url, 'SELECT count(*)::int FROM scans')).toBe(
      await scalar(topology.primary.url, 'SELECT count(*)::int FROM scans'),
    );
  });

  test('waitForCatchup() fails with the remaining lag when a replica cannot catch up', async () => {
    const replica = topology.replicas[1]!;
    await replica.pause();
    try {
      await queryRows(topology.primary.url, "INSERT INTO scans (payload) VALUES ('unseen')");
      await expect(replica.waitForCatchup(1000)).rejects.toThrow(/replica2 did not catch up within 1000 ms/);
    } finally {
      await replica.resume();
    }
  });

  test('a stopped replica shuts down cleanly and restart() brings it back', async () => {
    const replica = topology.replicas[0]!;
    const before = replica.pid!;
    await replica.restart();
    expect(isAlive(before)).toBe(false);
    expect(replica.pid).not.toBe(before);
    expect(await replica.isInRecovery()).toBe(true);
    await replica.waitForCatchup(20_000);
  });

  test('operations on a stopped node say what to do instead', async () => {
    const replica = topology.replicas[0]!;
    await replica.stop();
    await expect(replica.pause()).rejects.toThrow(/cannot pause replica1: it is not running \(start\(\) it first\)/);
    await replica.start();
  });
});

describe('promotion', () => {
  test('a promoted replica leaves recovery and takes writes', async () => {
    const topology = await startTopology({ replicas: 1, redis: false });
    try {
      const replica = topology.replicas[0]!;
      await expect(queryRows(replica.url, 'CREATE TABLE t (id int)')).rejects.toThrow(/read-only/);
      await topology.primary.kill();
      await replica.promote();
      expect(replica.role).toBe('primary');
      expect(await replica.isInRecovery()).toBe(false);
      await queryRows(replica.url, 'CREATE TABLE t (id int)');
      await queryRows(replica.url, 'INSERT INTO t VALUES (42)');
      expect(await scalar(replica.url, 'SELECT id FROM t')).toBe(42);
      await expect(replica.promote()).rejects.toThrow(/already a primary/);
    } finally {
      await topology.stop();
    }
  });
});

describe('synchronous replication', () => {
  test('a commit waits for every replica, so it cannot be acknowledged while one is frozen', async () => {
    const topology = await startTopology({ replicas: 2, redis: false, synchronous: true });
    try {
      const states = await queryRows<{ sync_state: string }>(
        topology.adminUrl,
        'SELECT sync_state FROM pg_stat_replication',
      );
      expect(states.map((s) => s.sync_state)).toEqual(['quorum', 'quorum']);
      await queryRows(topology.primary.url, 'CREATE TABLE writes (id int)');

      const replica = topology.replicas[0]!;
      await replica.pause();
      let acknowledged = false;
      const write = queryRows(topology.primary.url, 'INSERT INTO writes VALUES (1)').then(() => (acknowledged = true));
      // However long we wait, the commit cannot return while a synchronous standby is frozen.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(acknowledged).toBe(false);
      await replica.resume();
      await write;
      expect(acknowledged).toBe(true);
    } finally {
      await topology.stop();
    }
  });

  test('without synchronous, the same commit returns while a replica is frozen (the control)', async () => {
    const topology = await startTopology({ replicas: 2, redis: false });
    try {
      await queryRows(topology.primary.url, 'CREATE TABLE writes (id int)');
      await topology.replicas[0]!.pause();
      await queryRows(topology.primary.url, 'INSERT INTO writes VALUES (1)');
      expect(await queryRows(topology.primary.url, 'SELECT count(*)::int AS n FROM writes')).toEqual([{ n: 1 }]);
      await topology.replicas[0]!.resume();
    } finally {
      await topology.stop();
    }
  });
});

describe('Redis faults', () => {
  test('pause freezes Redis, resume thaws it, kill ends it, start brings it back', async () => {
    const topology = await startTopology({ replicas: 0 });
    const redis = topology.redis!;
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 500, retryStrategy: () => 50 });
    client.on('error', () => {});
    try {
      await client.set('k', 'v');
      await redis.pause();
      await expect(client.get('k')).rejects.toThrow(/timed out/i);
      await redis.resume();
      expect(await client.ping()).toBe('PONG');
      const pid = redis.pid!;
      await redis.kill();
      expect(isAlive(pid)).toBe(false);
      await redis.start();
      expect(await client.ping()).toBe('PONG');
      // Nothing is persisted: a killed cache comes back empty, as a real restarted cache would.
      expect(await client.get('k')).toBeNull();
    } finally {
      client.disconnect();
      await topology.stop();
    }
  });
});

describe('stop()', () => {
  /** The System V segment id a postmaster records in line 7 of postmaster.pid. */
  function sharedMemoryId(dataDir: string): string {
    return readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[6]!.trim().split(/\s+/)[1]!;
  }
  function liveSegmentIds(): string[] {
    return execFileSync('ipcs', ['-m'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[1] ?? '')
      .filter((id) => /^\d+$/.test(id));
  }

  /** POSIX shared memory segments of Postgres: a SIGKILLed postmaster could never remove these. */
  const posixSegments = () => readdirSync('/dev/shm').filter((f) => f.startsWith('PostgreSQL.'));

  test('leaves no process, no directory and no shared memory behind, even after a kill', async () => {
    const posixBefore = posixSegments();
    const topology = await startTopology({ replicas: 2 });
    const pids = topology.pids();
    const runDir = (topology as unknown as { runDir: string }).runDir;
    const dataDirs = [topology.primary, ...topology.replicas].map((n) => (n as unknown as { dataDir: string }).dataDir);
    const segments = dataDirs.map(sharedMemoryId);
    expect(liveSegmentIds()).toEqual(expect.arrayContaining(segments));
    expect(existsSync(runDir)).toBe(true);

    await topology.replicas[0]!.kill();
    await topology.replicas[1]!.pause();
    await topology.stop();

    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(processesUnder(runDir, SERVERS)).toEqual([]);
    expect(existsSync(runDir)).toBe(false);
    expect(liveSegmentIds().filter((id) => segments.includes(id))).toEqual([]);
    expect(posixSegments().filter((f) => !posixBefore.includes(f))).toEqual([]);
    await topology.stop(); // idempotent
  });
});

describe('bad input', () => {
  test.each([
    [{ replicas: -1 }, /replicas/],
    [{ replicas: 9 }, /replicas/],
    [{ replicas: 1.5 }, /replicas/],
    [{ synchronous: true, replicas: 0 }, /synchronous replication needs at least one replica/],
    [{ provider: 'external' as const }, /external\.primary/],
    [{ colour: 'blue' } as object, /colour|unrecognized/i],
  ])('%o is refused with a message naming the field', async (spec, message) => {
    await expect(startTopology(spec as never)).rejects.toThrow(message);
  });

  test('a wrong DBPROOF_PG_BIN says how to install Postgres', async () => {
    await expect(startTopology({ postgres: { binDir: '/nonexistent' } })).rejects.toThrow(
      /apt-get install -y postgresql/,
    );
  });
});
