import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sameProcess, type ProcessIdentity } from '../../process/node-processes.mjs';
import { runsRoots, sweepRunDir } from '../../providers/native/run-dir.ts';
import { parseArgs } from '../args.ts';
import { lockHolder, ownerAlive, readState, stateFile, type TopologyState } from '../state.ts';
import { DbproofError, UsageError } from '../../errors.ts';
import { pollUntil } from '../../wait.ts';

const run = promisify(execFile);

export const DOWN_HELP = `dbproof down

Stops the topology \`dbproof up\` started here (foreground or --detach, or one
still starting) and waits until none of its processes is alive. Does nothing when
none is up. Signals only what dbproof started: a state file it did not write is
refused (exit 2), a PID now used by another process is left alone.`;

/** Waits until none of `processes` runs; a PID another process has taken since counts as gone. */
async function waitGone(processes: ProcessIdentity[], timeoutMs: number): Promise<boolean> {
  return (await pollUntil(() => !processes.some(sameProcess), { timeoutMs, intervalMs: 50 })) === true;
}

/**
 * The run directories the state's PID files are in, each checked to be one of
 * dbproof's own (under a `runs/` directory dbproof uses) before anything is signalled:
 * a PID file elsewhere could name any process.
 */
function runDirsOf(state: TopologyState): string[] {
  const roots = runsRoots();
  const dirs = state.topology.nodes.flatMap((node) => {
    if (!node.pidFile) return [];
    const runDir = path.dirname(path.dirname(node.pidFile));
    const inRoot =
      path.normalize(node.pidFile) === node.pidFile &&
      roots.includes(path.dirname(runDir)) &&
      !path.basename(runDir).startsWith('.');
    if (!inRoot) {
      throw new UsageError(
        `${stateFile()} names ${node.pidFile}, outside dbproof's run directories (${roots.join(', ')}); nothing was stopped: run \`dbproof down\` with the DBPROOF_TMPDIR \`up\` had, or remove ${stateFile()} if no topology is up`,
      );
    }
    return [runDir];
  });
  return [...new Set(dirs)];
}

/** The recorded containers that Testcontainers made (the containers provider's): a forged id names someone else's. */
async function removeContainers(ids: string[]): Promise<void> {
  const made = await run('docker', [
    'ps',
    '--all',
    '--quiet',
    '--no-trunc',
    '--filter',
    'label=org.testcontainers=true',
  ]).then(
    ({ stdout }) => new Set(stdout.split('\n').filter(Boolean)),
    () => new Set<string>(),
  );
  const ours = ids.filter((id) => [...made].some((full) => full.startsWith(id)));
  if (ours.length > 0) await run('docker', ['rm', '--force', '--volumes', ...ours]).catch(() => {});
}

/**
 * No state yet, but an `up` may hold the lock while it starts its topology: asked to
 * stop, it stops the topology as soon as it is up (and its watchdog ends it if it dies).
 */
async function stopStarting(): Promise<number> {
  const holder = lockHolder();
  if (!holder) {
    console.log('no topology is up here; nothing to stop');
    return 0;
  }
  process.kill(holder.pid, 'SIGTERM');
  if (!(await waitGone([holder], 120_000)))
    throw new DbproofError(`the starting \`dbproof up\` (pid ${holder.pid}) did not stop within 120 s`);
  console.log('stopped');
  return 0;
}

export async function down(argv: string[]): Promise<number> {
  const { options } = parseArgs('down', argv, {});
  if (options.help) {
    console.log(DOWN_HELP);
    return 0;
  }
  const state = readState();
  if (!state) return stopStarting();
  const runDirs = runDirsOf(state);
  if (ownerAlive(state)) {
    // The owner stops its topology cleanly on SIGTERM and removes the state file.
    process.kill(state.ownerPid, 'SIGTERM');
    await waitGone([{ pid: state.ownerPid, startTime: state.ownerStartTime }], 30_000);
  }
  await waitGone(state.processes, 10_000);
  if (!ownerAlive(state)) {
    // The owner is gone: whatever is left in its run directories (the watchdog normally
    // removed it already) is ended as a stale run is, by the programs dbproof started there.
    for (const dir of runDirs) await sweepRunDir(dir);
  }
  // Containers of a keeper that is gone (the watchdog normally removed them already).
  const containerIds = state.topology.nodes.flatMap((n) => (n.container ? [n.container] : []));
  if (state.topology.provider === 'containers' && containerIds.length > 0) await removeContainers(containerIds);
  rmSync(stateFile(), { force: true });
  const survivors = state.processes.filter(sameProcess).map((p) => p.pid);
  if (survivors.length > 0) throw new DbproofError(`some processes did not stop: ${survivors.join(', ')}`);
  console.log('stopped');
  return 0;
}
