// Where SATURATION's thresholds come from (harness/noise/record.ts): the noise monitor on
// this machine as it is, then beside stress-ng with 1, 2 and 4 CPU hogs, each repeated.
// Prints, per run, the distribution over buckets of the probe's p99 and max lateness, CPU
// pressure and steal, the share of buckets each candidate threshold calls saturated, and
// the monitor's own CPU use. Raw records go to /tmp/dbproof-noise-calibration/.
//
//   npx tsx test/noise/calibrate.ts [seconds per run, 15] [repeats, 2] [scenarios, quiet,cpu1,cpu2,cpu4]
//
// Needs stress-ng (apt-get install -y stress-ng). Run it on the machine you calibrate for,
// with nothing else of yours running.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, SATURATION } from '../../harness/noise/record.ts';
import { type NoiseRecord, startNoiseMonitor } from '../../harness/noise/index.ts';
import { parseProcessStat } from '../../harness/noise/proc.ts';
import { clockTicksPerSecond } from '../../harness/noise/sampler.ts';

const [seconds = 15, repeats = 2] = process.argv.slice(2, 4).map(Number);
const scenarios = (process.argv[4] ?? 'quiet,cpu1,cpu2,cpu4').split(',');
const TICKS = clockTicksPerSecond();
const OUT = '/tmp/dbproof-noise-calibration';
const P99_CANDIDATES = [2, 5, 10, 20, 50];
const PRESSURE_CANDIDATES = [0.2, 0.3, 0.5, 0.7, 0.9];

function hogs(scenario: string): ChildProcess | undefined {
  const count = Number(scenario.replace('cpu', ''));
  if (!count) return undefined;
  return spawn('stress-ng', ['--cpu', String(count), '--timeout', `${seconds + 5}s`, '--quiet'], { stdio: 'ignore' });
}

function cpuTicks(pid: number): number {
  return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.cpuTicks ?? 0;
}

const fixed = (value: number | null | undefined, digits = 1) => (value == null ? '–' : value.toFixed(digits));
const share = (count: number, of: number) => `${Math.round((100 * count) / of)}%`;

function describe(name: string, record: NoiseRecord, probeCpu: number, samplerCpu: number): string {
  const b = record.buckets;
  const p99s = b.map((x) => x.probeP99Ms ?? 0);
  const maxes = b.map((x) => x.probeMaxMs ?? 0);
  const pressures = b.flatMap((x) => (x.cpuPressure === null ? [] : [x.cpuPressure]));
  const steals = b.flatMap((x) => (x.steal === null ? [] : [x.steal]));
  const machine = b.flatMap((x) => (x.cpu.machine === null ? [] : [x.cpu.machine]));
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  const overP99 = P99_CANDIDATES.map((x) => `>${x}ms ${share(p99s.filter((v) => v > x).length, b.length)}`);
  const overPressure = PRESSURE_CANDIDATES.map(
    (y) => `>${y} ${share(pressures.filter((v) => v > y).length, pressures.length || 1)}`,
  );
  return [
    `${name.padEnd(8)} buckets ${b.length}  wakeups/bucket ${fixed(mean(b.map((x) => x.wakeups)), 0)}`,
    `  probe p99 per bucket: p50 ${fixed(percentile(p99s, 0.5), 2)}  p90 ${fixed(percentile(p99s, 0.9), 2)}  p99 ${fixed(percentile(p99s, 0.99), 2)} ms; max of all ${fixed(Math.max(...maxes), 1)} ms`,
    `  CPU pressure per bucket: p10 ${fixed(percentile(pressures, 0.1), 2)}  p50 ${fixed(percentile(pressures, 0.5), 2)}  p90 ${fixed(percentile(pressures, 0.9), 2)}  mean ${fixed(mean(pressures), 2)}`,
    `  steal mean ${fixed(100 * mean(steals), 1)}%  machine busy ${fixed(mean(machine), 2)} cores`,
    `  buckets with probe p99 ${overP99.join('  ')}`,
    `  buckets with pressure ${overPressure.join('  ')}`,
    `  by SATURATION: ${record.summary.saturatedBuckets}/${b.length} buckets saturated, window ${record.summary.saturated ? 'SATURATED' : 'quiet'}`,
    `  monitor's own CPU: probe ${fixed(100 * probeCpu, 2)}% of a core, sampler (this process) ${fixed(100 * samplerCpu, 2)}% of a core`,
  ].join('\n');
}

mkdirSync(OUT, { recursive: true });
for (let repeat = 1; repeat <= repeats; repeat++) {
  for (const scenario of scenarios) {
    const hog = hogs(scenario);
    await sleep(1000); // the hogs running before the first bucket
    const noise = await startNoiseMonitor();
    const probeTicks0 = cpuTicks(noise.probePid);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    await sleep(seconds * 1000);
    const probeCpu = (cpuTicks(noise.probePid) - probeTicks0) / TICKS / seconds;
    const used = process.cpuUsage(cpu0);
    const samplerCpu = (used.user + used.system) / 1000 / (performance.now() - wall0);
    const record = await noise.stop();
    hog?.kill('SIGKILL');
    writeFileSync(path.join(OUT, `${scenario}-${repeat}.json`), JSON.stringify(record));
    console.log(describe(`${scenario}#${repeat}`, record, probeCpu, samplerCpu));
    await sleep(2000); // the hogs gone, the machine settled
  }
}
