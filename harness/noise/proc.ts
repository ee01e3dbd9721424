/**
 * The noise monitor's readings of /proc, parsed from their text so they can be tested
 * without the files: the sampler reads, these only parse. Linux's formats: proc(5),
 * Documentation/accounting/psi.rst.
 */

/**
 * The `total` of the `some` line of /proc/pressure/cpu: µs, since boot, during which at
 * least one runnable task waited for a CPU. Null when the text has no such line.
 */
export function parseCpuPressure(text: string): number | null {
  const match = /^some .*\btotal=(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** The machine's CPU time since boot, in USER_HZ ticks (`getconf CLK_TCK`, normally 100 a second). */
export interface CpuTimes {
  /** user + nice + system + irq + softirq (guest time is already inside user). */
  busy: number;
  /** idle + iowait: time no task wanted the CPUs. */
  idle: number;
  /** busy + idle + steal: all the time the CPUs had. */
  total: number;
  /** Time the hypervisor ran another machine while this one had work; null on kernels without the column. */
  steal: number | null;
}

/** The first (`cpu`, all CPUs) line of /proc/stat; null when there is none. */
export function parseCpuTimes(text: string): CpuTimes | null {
  const match = /^cpu\s+([\d ]+)/m.exec(text);
  if (!match) return null;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal] = match[1]!
    .trim()
    .split(/\s+/)
    .map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, idle: idle + iowait, total: busy + idle + iowait + (steal ?? 0), steal: steal ?? null };
}

/** What the sampler needs of /proc/<pid>/stat. */
export interface ProcessStat {
  pid: number;
  ppid: number;
  /** The command name (`comm`, at most 15 characters). */
  name: string;
  /** Start time in ticks after boot: with the pid, tells a reused pid from the process that had it. */
  startTime: number;
  /** utime + stime: CPU the process used (all its threads), in ticks. */
  cpuTicks: number;
}

/** One /proc/<pid>/stat line; null when it is not one (a process that ended as it was read). */
export function parseProcessStat(text: string): ProcessStat | null {
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // Fields from the state (field 3 in proc(5)) on: ppid is field 4, utime 14, stime 15, starttime 22.
  const fields = text.slice(close + 2).split(' ');
  if (fields.length < 20) return null;
  return {
    pid: Number(text.slice(0, open)),
    ppid: Number(fields[1]),
    name: text.slice(open + 2, close),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTime: Number(fields[19]),
  };
}
