import { existsSync, readFileSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { endProcessesUnder, isAlive } from '../../process/node-processes.mjs';
import { parseArgs } from '../args.ts';
import { ownerAlive, readState, stateFile } from '../state.ts';
import { DbproofError } from '../../errors.ts';

export const DOWN_HELP = `dbproof down

Stops the topology \`dbproof up\` started here (foreground or --detach) and waits
until none of its processes is alive. Does nothing when none is up.`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export async function down(argv: string[]): Promise<number> {
  const { options } = parseArgs('down', argv, {});
  if (options.help) {
    console.log(DOWN_HELP);
    return 0;
  }
  const state = readState();
  if (!state) {
    console.log('no topology is up here; nothing to stop');
    return 0;
  }
  // The node PIDs of right now (a node restarted since `up` has a new one).
  const nodePids = state.topology.nodes
    .map((n) => (n.pidFile && existsSync(n.pidFile) ? Number(readFileSync(n.pidFile, 'utf8').split('\n')[0]) : NaN))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
  const pids = [...new Set([...state.topology.pids, ...nodePids])];
  if (ownerAlive(state)) {
    // The owner stops its topology cleanly on SIGTERM and removes the state file.
    process.kill(state.ownerPid, 'SIGTERM');
    await waitGone([state.ownerPid], 30_000);
  }
  // Whatever is still alive now had no owner to stop it (the watchdog normally has done this already).
  if (!(await waitGone(pids, 10_000))) {
    // By working directory: never a PID some unrelated process has since been given.
    const nodeDirs = state.topology.nodes.flatMap((n) => (n.pidFile ? [path.dirname(n.pidFile)] : []));
    await Promise.all(nodeDirs.map((dir) => endProcessesUnder(dir, { gentle: 'SIGQUIT' })));
  }
  // Containers of a keeper that is gone (the watchdog normally removed them already).
  const containerIds = state.topology.nodes.flatMap((n) => (n.container ? [n.container] : []));
  if (state.topology.provider === 'containers' && containerIds.length > 0) {
    await new Promise((resolve) => execFile('docker', ['rm', '--force', '--volumes', ...containerIds], () => resolve(undefined)));
  }
  rmSync(stateFile(), { force: true });
  const survivors = pids.filter(isAlive);
  if (survivors.length > 0) throw new DbproofError(`some processes did not stop: ${survivors.join(', ')}`);
  console.log('stopped');
  return 0;
}
