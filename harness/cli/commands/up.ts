import { fork } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { DbproofError } from '../../errors.ts';
import { packageFile } from '../../package-files.ts';
import { readStat, type ProcessIdentity } from '../../process/node-processes.mjs';
import type { TopologyDescription, TopologySpec } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { describeForHumans, printJson } from '../output.ts';
import {
  alreadyUp,
  clearState,
  ensureStateDir,
  lockHolder,
  ownerAlive,
  readState,
  takeUpLock,
  thisProcess,
  writeState,
} from '../state.ts';
import { TOPOLOGY_FLAGS, TOPOLOGY_FLAGS_HELP, topologySpecFrom } from './topology-options.ts';

export const UP_HELP = `dbproof up [options]

Starts a Postgres primary, streaming replicas and Redis on 127.0.0.1 and prints
their connection URLs. Stays in the foreground until Ctrl-C, or with --detach
returns once everything is ready (stop it with \`dbproof down\`).

${TOPOLOGY_FLAGS_HELP}
  --detach         return once ready; the topology stays up
  --json           print exactly one JSON object on stdout:
                   {"primary","replicas","redis","admin","pids"} (URLs with passwords)`;

const BIN = packageFile('bin/dbproof.js');

/** The `--json` object: the URLs as they are (passwords included) and every PID started. */
function upJson(topology: TopologyDescription, extraPids: number[] = []) {
  return {
    primary: topology.primary,
    replicas: topology.replicas,
    redis: topology.redis,
    admin: topology.admin,
    pids: [...extraPids, ...topology.pids],
  };
}

/** Early, before a keeper is forked; the lock the owner takes is what makes it hold when two start at once. */
function refuseSecondTopology(): void {
  const state = readState();
  if (state && ownerAlive(state)) throw alreadyUp({ pid: state.ownerPid, startTime: state.ownerStartTime });
  const holder = lockHolder();
  if (holder) throw alreadyUp(holder);
}

/** Each PID with its start time, so that `down` never takes a reused PID for one of ours. */
function identities(pids: number[]): ProcessIdentity[] {
  return pids.flatMap((pid) => {
    const startTime = readStat(pid)?.startTime;
    return startTime === undefined ? [] : [{ pid, startTime }];
  });
}

/**
 * Runs a topology in this process until SIGINT/SIGTERM/SIGHUP: the foreground `up`
 * and the background keeper of `up --detach` are both this.
 */
async function ownTopology(
  spec: TopologySpec,
  detached: boolean,
  onReady: (topology: TopologyDescription) => void,
): Promise<void> {
  let stopRequested: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = () => {
    // A second Ctrl-C means "now": exit at once, the watchdog cleans up behind us.
    if (++signals > 1) process.exit(130);
    stopRequested();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const releaseLock = takeUpLock();
  try {
    // Loaded only here: `up` with a bad flag, and `up --detach`'s own process, never need it.
    const { startTopology } = await import('../../providers/index.ts');
    const topology = await startTopology(spec);
    try {
      const description = topology.describe();
      writeState({
        version: 2,
        ownerPid: process.pid,
        ownerStartTime: thisProcess().startTime,
        detached,
        startedAt: new Date().toISOString(),
        processes: identities(description.pids),
        topology: description,
      });
      onReady(description);
      // Nothing else holds the event loop open: the nodes are detached and unref'd.
      const keepAlive = setInterval(() => {}, 1 << 30);
      await stopSignal;
      clearInterval(keepAlive);
    } finally {
      await topology.stop();
      clearState(process.pid);
    }
  } finally {
    releaseLock();
  }
}

export async function up(argv: string[]): Promise<number> {
  const { options } = parseArgs('up', argv, {
    ...TOPOLOGY_FLAGS,
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (options.help) {
    console.log(UP_HELP);
    return 0;
  }
  const spec = topologySpecFrom(options);
  refuseSecondTopology();
  if (options.detach)
    return upDetached(
      argv.filter((a) => a !== '--detach'),
      Boolean(options.json),
    );

  await ownTopology(spec, false, (topology) => {
    if (options.json) printJson(upJson(topology, []));
    else
      console.log(
        `${describeForHumans(topology)}\n\npasswords hidden: \`dbproof up --json\` and \`dbproof exec\` hand them over\nup; Ctrl-C stops it`,
      );
  });
  return 0;
}

type KeeperMessage = { ready: TopologyDescription } | { error: string; exitCode: number };

/** Starts the keeper (a background `dbproof` that owns the topology) and returns once it reports ready. */
async function upDetached(argv: string[], json: boolean): Promise<number> {
  const logFile = path.join(ensureStateDir(), 'keeper.log');
  const log = openSync(logFile, 'a');
  const keeper = fork(BIN, ['__keep', ...argv.filter((a) => a !== '--json')], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const message = await new Promise<KeeperMessage>((resolve) => {
    keeper.once('message', (m) => resolve(m as KeeperMessage));
    keeper.once('exit', (code) =>
      resolve({
        error: `the background keeper exited (code ${code}) before the topology was ready; see ${logFile}`,
        exitCode: 2,
      }),
    );
  });
  keeper.removeAllListeners('exit');
  if ('error' in message) throw new DbproofError(message.error, { exitCode: message.exitCode });
  keeper.disconnect();
  keeper.unref();
  if (json) printJson(upJson(message.ready, [keeper.pid!]));
  else
    console.log(
      `${describeForHumans(message.ready)}\n\nup in the background (keeper pid ${keeper.pid}); \`dbproof status\` shows it, \`dbproof down\` stops it`,
    );
  return 0;
}

/** The hidden `__keep` command: the background owner of a detached topology. */
export async function keep(argv: string[]): Promise<number> {
  const { options } = parseArgs('up', argv, { ...TOPOLOGY_FLAGS });
  try {
    await ownTopology(topologySpecFrom(options), true, (topology) => {
      process.send?.({ ready: topology } satisfies KeeperMessage);
    });
  } catch (error) {
    const exitCode = error instanceof DbproofError ? error.exitCode : 2;
    process.send?.({ error: error instanceof Error ? error.message : String(error), exitCode } satisfies KeeperMessage);
    throw error;
  }
  return 0;
}
