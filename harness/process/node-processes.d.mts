export interface ProcStat {
  state: string;
  ppid: number;
  /** Start time in clock ticks after boot: with the PID, identifies a process across PID reuse. */
  startTime: number;
}
export function readStat(pid: number): ProcStat | undefined;
export function isAlive(pid: number): boolean;
export function processesUnder(dir: string): number[];
export function signalAll(pids: number[], signal: NodeJS.Signals): number;
export function waitNoneUnder(dir: string, timeoutMs: number, intervalMs?: number): Promise<boolean>;
export function endProcessesUnder(dir: string, options?: { mainPid?: number; gentle?: NodeJS.Signals; graceMs?: number }): Promise<void>;
