import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { deadPid, startBystander } from './process-support.ts';

// `dbproof down` reads a file anyone with write access to the project may have edited:
// whatever it names, only what dbproof started may be signalled.
const base = tempDir('down-base');
const env = (stateDir: string) => ({ DBPROOF_STATE_DIR: stateDir, DBPROOF_TMPDIR: base });

function writeForgedState(stateDir: string, state: object): string {
  const file = path.join(stateDir, 'state.json');
  writeFileSync(file, JSON.stringify(state));
  return file;
}

/** A state as `up` writes it, whose owner is gone; `overrides` forge parts of it. */
async function forgedState(overrides: { processes?: { pid: number; startTime: number }[]; nodes?: object[] }) {
  const processes = overrides.processes ?? [];
  return {
    version: 2,
    ownerPid: await deadPid(),
    ownerStartTime: 1,
    detached: true,
    startedAt: new Date().toISOString(),
    processes,
    topology: {
      provider: 'native',
      primary: 'postgres://app:pw@127.0.0.1:5999/app',
      replicas: [],
      redis: null,
      admin: 'postgres://dbproof:pw@127.0.0.1:5999/postgres',
      pids: processes.map((p) => p.pid),
      nodes: overrides.nodes ?? [],
    },
  };
}

function expectOneLineRefusal(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/internal error|\bat .*\.ts:\d+/);
}

describe('dbproof down signals nothing it did not start', () => {
  test('a pidFile outside dbproof’s run directories is refused (exit 2, one line) and its process survives', async () => {
    const stateDir = tempDir('down-state');
    const elsewhere = tempDir('down-elsewhere');
    const victim = startBystander(elsewhere);
    const pidFile = path.join(elsewhere, 'postmaster.pid');
    writeFileSync(pidFile, `${victim.pid}\n`);
    const file = writeForgedState(
      stateDir,
      await forgedState({
        nodes: [{ name: 'primary', kind: 'postgres', port: 5999, url: 'postgres://x@127.0.0.1:5999/p', pidFile }],
      }),
    );

    const result = await runCli(['down'], { env: env(stateDir) });
    expectOneLineRefusal(result, new RegExp(`dbproof: .*${pidFile}.* outside`));
    expect(victim.alive()).toBe(true);
    expect(existsSync(file)).toBe(true); // nothing changed on a refusal
  });

  test('a pidFile inside the run directories that names an unrelated process: that process survives', async () => {
    const stateDir = tempDir('down-state');
    const nodeDir = path.join(base, 'runs', '12345-forged00', 'primary');
    mkdirSync(nodeDir, { recursive: true });
    const victim = startBystander(nodeDir);
    const pidFile = path.join(nodeDir, 'postmaster.pid');
    writeFileSync(pidFile, `${victim.pid}\n`);
    writeForgedState(
      stateDir,
      await forgedState({
        nodes: [{ name: 'primary', kind: 'postgres', port: 5999, url: 'postgres://x@127.0.0.1:5999/p', pidFile }],
      }),
    );

    const result = await runCli(['down'], { env: env(stateDir) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(victim.alive()).toBe(true);
  });

  test('a recorded PID now used by another process is neither waited for, blamed nor signalled', async () => {
    const stateDir = tempDir('down-state');
    const victim = startBystander(tempDir('down-elsewhere'));
    // The PID matches, the start time does not: the PID was reused.
    writeForgedState(
      stateDir,
      await forgedState({ processes: [{ pid: victim.pid, startTime: victim.startTime + 1 }] }),
    );

    const started = Date.now();
    const result = await runCli(['down'], { env: env(stateDir) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000); // not the 10 s wait for a process that is not ours
    expect(victim.alive()).toBe(true);
  });

  test('an owner PID that is not a dbproof process is not signalled, even with its true start time', async () => {
    const stateDir = tempDir('down-state');
    const victim = startBystander(tempDir('down-elsewhere'));
    writeForgedState(stateDir, { ...(await forgedState({})), ownerPid: victim.pid, ownerStartTime: victim.startTime });

    const result = await runCli(['down'], { env: env(stateDir) });
    expect(result.code).toBe(0);
    expect(victim.alive()).toBe(true);
  });

  test.each([
    ['not JSON', '{ "ownerPid": '],
    ['no start time for its owner', '{ "version": 2, "ownerPid": PID, "topology": {} }'],
    [
      'an older layout',
      '{ "version": 1, "ownerPid": PID, "ownerStartTime": 5, "detached": true, "startedAt": "x", "topology": { "provider": "native", "primary": "x", "replicas": [], "redis": null, "admin": "x", "pids": [PID], "nodes": [] } }',
    ],
  ])('a state file with %s is refused with one line naming it, and left as it is', async (_, template) => {
    const stateDir = tempDir('down-state');
    const text = template.replaceAll('PID', String(await deadPid()));
    const file = path.join(stateDir, 'state.json');
    writeFileSync(file, text);
    const result = await runCli(['down'], { env: env(stateDir) });
    expectOneLineRefusal(result, new RegExp(`dbproof: ${file} .*not a state file this dbproof wrote.*remove it`));
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
