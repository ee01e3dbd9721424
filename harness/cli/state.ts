import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, readStat } from '../process/node-processes.mjs';
import type { TopologyDescription } from '../topology/types.ts';

/** What `up` leaves for `status` and `down`: who owns the topology and how to reach it. */
export interface TopologyState {
  version: 1;
  ownerPid: number;
  ownerStartTime: number | undefined;
  detached: boolean;
  startedAt: string;
  topology: TopologyDescription;
}

export function stateDir(): string {
  return process.env.DBPROOF_STATE_DIR ?? path.resolve('.dbproof');
}

export function stateFile(): string {
  return path.join(stateDir(), 'state.json');
}

/** Written atomically (temporary file + rename) and readable by this user only: it holds passwords. */
export function writeState(state: TopologyState): void {
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  const temporary = `${stateFile()}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, stateFile());
}

export function readState(): TopologyState | undefined {
  if (!existsSync(stateFile())) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8')) as TopologyState;
  } catch {
    return undefined;
  }
}

/** Removes the state file if (and only if) it still describes `ownerPid`'s topology. */
export function clearState(ownerPid: number): void {
  const state = readState();
  if (state && state.ownerPid === ownerPid) rmSync(stateFile(), { force: true });
}

export function ownerAlive(state: TopologyState): boolean {
  if (!isAlive(state.ownerPid)) return false;
  const stat = readStat(state.ownerPid);
  return state.ownerStartTime === undefined || stat === undefined || stat.startTime === state.ownerStartTime;
}
