// Where SATURATION's thresholds come from (harness/noise/record.ts): the noise monitor on
// this machine as it is, then beside stress-ng with 1, 2 and 4 CPU hogs, each repeated;
// a scenario ending in `+app` adds an app-like load (two stress-ng workers busy 5 ms in
// 20 ms: half a core in bursts, as an app and Postgres under test would be), since CPU
// pressure only shows when something besides the hogs wants a CPU.
// Prints, per run, the distribution over buckets of the probe's p99 and max lateness, CPU
// pressure and steal, the share of buckets each candidate threshold calls saturated, and
// the monitor's own CPU use. Raw records go to /tmp/dbproof-noise-calibration/.
//
//   npx tsx test/noise/calibrate.ts [seconds per run, 15] [repeats, 2] [scenarios, quiet,cpu1,…,cpu4+app]
//
// Needs stress-ng (apt-get install -y stress-ng). Run it on the machine you calibrate for,
// with nothing else of yours running.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, SATURATION, summariseNoise } from '../../harness/noise/record.ts';
import { type NoiseRecord, startNoiseMonitor } from '../../harness/noise/index.ts';
import { parseProcessStat } from '../../harness/noise/proc.ts';
import { clockTicksPerSecond, ProcSampler } from '../../harness/noise/sampler.ts';

const [seconds = 15, repeats = 2] = process.argv.slice(2, 4).map(Number);
const scenarios = (process.argv[4] ?? 'quiet,cpu1,cpu2,cpu4,quiet+app,cpu1+app,cpu2+app,cpu4+app').split(',');
const TICKS = clockTicksPerSecond();
const OUT = '/tmp/dbproof-noise-calibration';
const P99_CANDIDATES = [2, 5, 10, 20, 50];
const PRESSURE_CANDIDATES = [0.2, 0.3, 0.5, 0.7, 0.9];

function stressNg(args: string[]): ChildProcess {
  return spawn('stress-ng', [...args, '--timeout', `${seconds + 5}s`, '--quiet'], { stdio: 'ignore' });
}

function hogs(scenario: string): ChildProcess | undefined {
  const count = Number(/^cpu(\d+)/.exec(scenario)?.[1] ?? 0);
  return count ? stressNg(['--cpu', String(count)]) : undefined;
}

function appLike(scenario: string): ChildProcess | undefined {
  return scenario.endsWith('+app') ? stressNg(['--cpu', '2', '--cpu-load', '25', '--cpu-load-slice', '5']) : undefined;
}

function cpuTicks(pid: number): number {
  return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.cpuTicks ?? 0;
}

const fixed = (value: number | null | undefined, digits = 1) => (value == null ? '–' : value.toFixed(digits));
const share = (count: number, of: number) => `${Math.round((100 * count) / of)}%`;

function figuresOf(name: string, record: NoiseRecord, probeCpu: number, samplerCpu: number): string {
  const b = record.buckets;
  const p99s = b.map((x) => x.probeP99Ms ?? 0);
  const maxes = b.map((x) => x.probeMaxMs ?? 0);
  const pressures = b.flatMap((x) => (x.cpuPressure === null ? [] : [x.cpuPressure]));
  const steals = b.flatMap((x) => (x.steal === null ? [] : [x.steal]));
  const machine = b.flatMap((x) => (x.cpu.machine === null ? [] : [x.cpu.machine]));
  // As dbproof would judge it: the hogs are someone else's, the app-like load the app's.
  const judged = summariseNoise(b.map((x) => ({ ...x, cpu: { ...x.cpu, postgres: 0 } })));
  const { machine: busy, dbproof, app, postgres: hogs } = record.summary.cpuMean;
  const others = (busy ?? 0) - dbproof - app - hogs;
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  const overP99 = P99_CANDIDATES.map((x) => `>${x}ms ${share(p99s.filter((v) => v > x).length, b.length)}`);
  const overPressure = PRESSURE_CANDIDATES.map(
    (y) => `>${y} ${share(pressures.filter((v) => v > y).length, pressures.length || 1)}`,
  );
  return [
    `${name.padEnd(8)} buckets ${b.length}  wakeups/bucket ${fixed(mean(b.map((x) => x.wakeups)), 0)}`,
    `  probe p99 per bucket: p50 ${fixed(percentile(p99s, 0.5), 2)}  p90 ${fixed(percentile(p99s, 0.9), 2)}  p99 ${fixed(percentile(p99s, 0.99), 2)} ms; max of all ${fixed(Math.max(...maxes), 1)} ms`,
    `  CPU pressure per bucket: p10 ${fixed(percentile(pressures, 0.1), 2)}  p50 ${fixed(percentile(pressures, 0.5), 2)}  p90 ${fixed(percentile(pressures, 0.9), 2)}  mean ${fixed(mean(pressures), 2)}`,
    `  steal mean ${fixed(100 * mean(steals), 1)}%  machine busy ${fixed(mean(machine), 2)} cores: hogs ${fixed(hogs, 2)}, app-like ${fixed(app, 2)}, this ${fixed(dbproof, 2)}, others ${fixed(others, 2)}${others > 0.3 ? ' (NOT QUIET: someone else was busy)' : ''}`,
    `  buckets with probe p99 ${overP99.join('  ')}`,
    `  buckets with pressure ${overPressure.join('  ')}`,
    `  by SATURATION, the hogs someone else's: ${judged.saturatedBuckets}/${b.length} buckets saturated (${share(judged.saturatedBuckets, b.length)}), window ${judged.saturated ? 'SATURATED' : 'quiet'}`,
    `  monitor's own CPU: probe ${fixed(100 * probeCpu, 2)}% of a core, sampler (this process) ${fixed(100 * samplerCpu, 2)}% of a core`,
  ].join('\n');
}

/** Someone else's test run or benchmark: not to be disturbed by the hogs, nor to disturb the figures. */
const OTHER_WORK = 'vitest|bench/run|dbproof\\.js|playwright|tsc --noEmit';

function otherWorkRuns(): boolean {
  try {
    execFileSync('pgrep', ['-f', OTHER_WORK], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Cores used outside this process's tree over `ms`. */
async function othersCores(ms: number): Promise<number> {
  const mine = new ProcSampler(() => ({ dbproof: [process.pid], app: [], postgres: [] }));
  const before = mine.read(true);
  await sleep(ms);
  const after = mine.read(true);
  const seconds = ms / 1000;
  return (after.cpu!.busy - before.cpu!.busy) / TICKS / seconds - after.partyTicks!.dbproof / TICKS / seconds;
}

/** Until nobody else's work runs and the machine has been idle (under 0.15 cores) for 5 s. */
async function waitForQuiet(): Promise<void> {
  for (let told = false; ; ) {
    if (!otherWorkRuns() && (await othersCores(5000)) < 0.15) return;
    if (!told) console.log('  … waiting for the machine to be quiet');
    told = true;
    await sleep(10_000);
  }
}

/** Waits `ms`, or less when someone else's work starts (true then). */
async function runUndisturbed(ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (otherWorkRuns()) return false;
    await sleep(Math.min(1000, end - performance.now()));
  }
  return true;
}

mkdirSync(OUT, { recursive: true });
console.log(`SATURATION now: ${JSON.stringify(SATURATION)}`);
for (let repeat = 1; repeat <= repeats; repeat++) {
  for (let index = 0; index < scenarios.length; index++) {
    const scenario = scenarios[index]!;
    await waitForQuiet();
    const hog = hogs(scenario);
    const app = appLike(scenario);
    await sleep(1000); // the hogs running before the first bucket
    // The hogs count in the 'postgres' column, the app-like load as the app, this process and
    // its probe as dbproof: what is left is someone else's.
    const noise = await startNoiseMonitor({
      pids: () => ({ dbproof: [process.pid], app: app?.pid ? [app.pid] : [], postgres: hog?.pid ? [hog.pid] : [] }),
    });
    const probeTicks0 = cpuTicks(noise.probePid);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const undisturbed = await runUndisturbed(seconds * 1000);
    const probeCpu = (cpuTicks(noise.probePid) - probeTicks0) / TICKS / seconds;
    const used = process.cpuUsage(cpu0);
    const samplerCpu = (used.user + used.system) / 1000 / (performance.now() - wall0);
    const record = await noise.stop();
    hog?.kill('SIGTERM');
    app?.kill('SIGTERM');
    if (!undisturbed) {
      console.log(`${scenario}#${repeat}: someone else's work started; the hogs stopped, the run is done again`);
      index--;
      continue;
    }
    writeFileSync(path.join(OUT, `${scenario}-${repeat}.json`), JSON.stringify(record));
    console.log(figuresOf(`${scenario}#${repeat}`, record, probeCpu, samplerCpu));
    await sleep(2000); // the hogs gone, the machine settled
  }
}
