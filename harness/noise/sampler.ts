import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { assignParties, type Party, type PartyPids } from './parties.ts';
import { type CpuTimes, parseCpuPressure, parseCpuTimes, parseProcessStat } from './proc.ts';

/** Counters read at one instant; the monitor turns two of them into rates. */
export interface ProcReading {
  /** /proc/pressure/cpu's `some` total, µs; null where the file does not exist. */
  pressureUs: number | null;
  cpu: CpuTimes | null;
  /** CPU ticks each party used since the previous reading of the parties; undefined when they were not read. */
  partyTicks: Record<Party, number> | undefined;
}

/** USER_HZ, the unit of /proc's CPU times: `getconf CLK_TCK`, 100 on every Linux we know of. */
export function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
    return ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/**
 * Reads the machine's counters, and the CPU of each party's processes. The parties cost
 * more: every process's /proc/<pid>/stat is read (1 to 2 ms of CPU for 150 processes), as
 * the parent links are how a party's tree is found (a kernel's /proc/<pid>/task/<tid>/children
 * may not exist: not on the 2-core CI machines measured). A process seen for the first time
 * is new since the last reading of the parties, so all its CPU falls in that interval; one
 * that lived and ended between two readings is not counted.
 */
export class ProcSampler {
  readonly #pids: () => PartyPids;
  readonly #buffer = Buffer.alloc(4096);
  /** `pid:startTime` → CPU ticks at the last reading, for every process on the machine. */
  #lastTicks = new Map<string, number>();
  #first = true;

  constructor(pids: () => PartyPids) {
    this.#pids = pids;
  }

  /** The machine's counters; with `parties`, the CPU each party used since they were last read. */
  read(parties: boolean): ProcReading {
    const pressure = this.#readText('/proc/pressure/cpu');
    const stat = this.#readText('/proc/stat');
    return {
      pressureUs: pressure === undefined ? null : parseCpuPressure(pressure),
      cpu: stat === undefined ? null : parseCpuTimes(stat),
      partyTicks: parties ? this.#readParties() : undefined,
    };
  }

  #readParties(): Record<Party, number> {
    const parents = new Map<number, number>();
    const commands = new Map<number, string>();
    const used = new Map<number, number>();
    const ticks = new Map<string, number>();
    let names: string[] = [];
    try {
      names = readdirSync('/proc');
    } catch {}
    for (const name of names) {
      const code = name.charCodeAt(0);
      if (code < 48 || code > 57) continue;
      const text = this.#readText(`/proc/${name}/stat`);
      const stat = text === undefined ? null : parseProcessStat(text);
      if (!stat) continue;
      const key = `${stat.pid}:${stat.startTime}`;
      ticks.set(key, stat.cpuTicks);
      parents.set(stat.pid, stat.ppid);
      commands.set(stat.pid, stat.name);
      if (!this.#first) used.set(stat.pid, stat.cpuTicks - (this.#lastTicks.get(key) ?? 0));
    }
    this.#lastTicks = ticks;
    this.#first = false;
    const byParty = { dbproof: 0, app: 0, postgres: 0 };
    for (const [pid, party] of assignParties(parents, this.#pids(), commands)) byParty[party] += used.get(pid) ?? 0;
    return byParty;
  }

  /** A small /proc file's text (a single read: 4 KB hold the line wanted), or undefined if it cannot be read. */
  #readText(file: string): string | undefined {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined;
    }
    try {
      return this.#buffer.toString('latin1', 0, readSync(fd, this.#buffer, 0, this.#buffer.length, 0));
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }
}
