import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { startTopology } from '../../harness/index.ts';
import { baseDir } from '../../harness/providers/native/run-dir.ts';
import { startCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';
import { waitUntilGone } from '../support/processes.ts';
import { deadPid, startBystander } from './process-support.ts';

// A user's shell in `runs/<id>/logs` (tailing a log) or in a data directory is not one of
// the topology's processes: no teardown, however it happens, may end it.
describe('teardown ends only the servers dbproof started', () => {
  test('stop(): a process working in the run directory and one in a data directory survive; the servers do not', async () => {
    const topology = await startTopology({ replicas: 1, redis: true });
    const runDir = (topology as unknown as { runDir: string }).runDir;
    const inLogs = startBystander(path.join(runDir, 'logs'));
    const inDataDir = startBystander(path.join(runDir, 'replica1'));
    const pids = topology.pids();

    // A frozen and a killed node still go through the same teardown.
    await topology.replicas[0]!.pause();
    expect(inDataDir.alive()).toBe(true); // not frozen along with the node
    await topology.replicas[0]!.resume();
    await topology.replicas[0]!.kill();
    expect(inDataDir.alive()).toBe(true);
    await topology.stop();

    expect(await waitUntilGone(pids, 10_000)).toEqual([]);
    expect(inLogs.alive()).toBe(true);
    expect(inDataDir.alive()).toBe(true);
  });

  test('SIGKILL of `up`: the watchdog ends the servers and spares a process in the run directory', async () => {
    const stateDir = tempDir('teardown-state');
    const { child, firstLine } = await startCli(['up', '--json', '--replicas', '0'], {
      env: { DBPROOF_STATE_DIR: stateDir },
    });
    const { pids } = JSON.parse(firstLine) as { pids: number[] };
    const state = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as {
      topology: { nodes: { pidFile: string }[] };
    };
    const runDir = path.dirname(path.dirname(state.topology.nodes[0]!.pidFile));
    const inLogs = startBystander(path.join(runDir, 'logs'));
    const inDataDir = startBystander(path.join(runDir, 'primary'));

    child.kill('SIGKILL');
    expect(await waitUntilGone(pids, 15_000)).toEqual([]);
    expect(inLogs.alive()).toBe(true);
    expect(inDataDir.alive()).toBe(true);
  });

  test('the sweep of a stale run directory spares a process working in it that dbproof did not start', async () => {
    const stale = path.join(baseDir(), 'runs', `${await deadPid()}-5ae1e55`);
    mkdirSync(path.join(stale, 'primary'), { recursive: true });
    writeFileSync(path.join(stale, 'owner.json'), JSON.stringify({ pid: await deadPid(), startTime: 1, programs: [] }));
    const inDataDir = startBystander(path.join(stale, 'primary'));

    const topology = await startTopology({ replicas: 0, redis: false }); // sweeps stale runs first
    await topology.stop();
    expect(inDataDir.alive()).toBe(true);
  });
});
