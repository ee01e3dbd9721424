export interface ProcStat {
  state: string;
  ppid: number;
  /** Start time in clock ticks after boot: with the PID, identifies a process across PID reuse. */
  startTime: number;
}
export function readStat(pid: number): ProcStat | undefined;
export function isAlive(pid: number): boolean;
/** A process as recorded when it started: with the start time, a reused PID is told apart. */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}
export function sameProcess(process: ProcessIdentity): boolean;
export function programOf(pid: number): string | undefined;
/** `programs`: absolute paths of the executables dbproof started under `dir`; nothing else is listed. */
export function processesUnder(dir: string, programs: readonly string[]): number[];
export function signalAll(pids: number[], signal: NodeJS.Signals): number;
export function waitNoneUnder(
  dir: string,
  programs: readonly string[],
  timeoutMs: number,
  intervalMs?: number,
): Promise<boolean>;
export function endProcessesUnder(
  dir: string,
  options: { programs: readonly string[]; mainPid?: number; gentle?: NodeJS.Signals; graceMs?: number },
): Promise<void>;
