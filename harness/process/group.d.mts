export interface ProcStat {
  state: string;
  pgrp: number;
  /** Start time in clock ticks after boot: with the PID, identifies a process across PID reuse. */
  startTime: number;
}
export function liveGroupMembers(pgid: number): number[];
export function readStat(pid: number): ProcStat | undefined;
export function isAlive(pid: number): boolean;
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean;
export function waitGroupGone(pgid: number, timeoutMs: number, intervalMs?: number): Promise<boolean>;
export function endGroup(pgid: number, gentle?: NodeJS.Signals, graceMs?: number): Promise<void>;
