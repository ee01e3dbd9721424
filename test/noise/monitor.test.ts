// The noise monitor (issue 13) on this machine, with its real probe process: what it
// records, that it sees a stall whoever causes it, whose CPU it counts, and that its probe
// never outlives it. Whether this machine is quiet is the calibration's business
// (test/noise/calibrate.ts), not these tests': they hold on a busy machine too.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { InfrastructureError, UsageError } from '../../harness/errors.ts';
import { type NoiseMonitor, noiseRecordSchema, startNoiseMonitor } from '../../harness/noise/index.ts';
import { parseProcessStat } from '../../harness/noise/proc.ts';
import { isAlive, waitUntilGone } from '../support/processes.ts';

const CHILD = fileURLToPath(new URL('./monitor-child.ts', import.meta.url));

/** CPU a process has used, in s (utime + stime, at 100 ticks a second). */
function cpuSeconds(pid: number): number {
  return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'latin1'))!.cpuTicks / 100;
}

const started: NoiseMonitor[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const monitor of started.splice(0)) {
    if (isAlive(monitor.probePid)) process.kill(monitor.probePid, 'SIGCONT'); // a test that stopped it
    await monitor.stop();
  }
});

async function monitor(options: Parameters<typeof startNoiseMonitor>[0] = {}): Promise<NoiseMonitor> {
  const running = await startNoiseMonitor(options);
  started.push(running);
  return running;
}

describe('what the monitor records', () => {
  test('its buckets cover the time from start to stop, each with finite, non-negative figures', async () => {
    const noise = await monitor();
    await sleep(1000);
    const elapsed = noise.now();
    const record = await noise.stop();

    expect(record.bucketMs).toBe(100);
    expect(record.buckets.map((b) => b.t)).toEqual(record.buckets.map((_, i) => i * 100));
    expect(record.buckets.length * 100).toBeGreaterThanOrEqual(elapsed);
    expect(record.buckets.at(-1)!.t).toBeLessThan(elapsed + 100);
    for (const bucket of record.buckets) {
      expect(Number.isFinite(bucket.probeMaxMs)).toBe(true);
      expect(bucket.probeMaxMs).toBeGreaterThanOrEqual(0);
      expect(bucket.probeP99Ms).toBeGreaterThanOrEqual(0);
      expect(bucket.probeP99Ms).toBeLessThanOrEqual(bucket.probeMaxMs!);
      if (bucket.cpuPressure !== null) expect(bucket.cpuPressure).toBeGreaterThanOrEqual(0);
      if (bucket.cpuPressure !== null) expect(bucket.cpuPressure).toBeLessThanOrEqual(1);
    }
    const wakeups = record.buckets.reduce((sum, b) => sum + b.wakeups, 0);
    expect(wakeups).toBeGreaterThan(0);
    expect(wakeups).toBeLessThanOrEqual(record.buckets.length * 100); // at most one a ms
    expect(record.summary.buckets).toBe(record.buckets.length);
    expect(noiseRecordSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  test('record() gives what was recorded so far, and the monitor keeps running', async () => {
    const noise = await monitor();
    await sleep(500);
    const soFar = await noise.record();
    await sleep(500);
    const whole = await noise.stop();
    expect(soFar.buckets.length).toBeGreaterThanOrEqual(5);
    expect(whole.buckets.length).toBeGreaterThan(soFar.buckets.length);
    expect(whole.buckets.slice(0, soFar.buckets.length - 1).map((b) => b.t)).toEqual(
      soFar.buckets.slice(0, -1).map((b) => b.t),
    );
    expect(await noise.stop()).toBe(whole);
  });
});

describe('a stalled machine is seen', () => {
  test('a probe stopped for 400 ms: buckets at least 300 ms late, and the window saturated', async () => {
    const noise = await monitor();
    await sleep(200);
    process.kill(noise.probePid, 'SIGSTOP');
    await sleep(400);
    process.kill(noise.probePid, 'SIGCONT');
    await sleep(300);
    const record = await noise.stop();

    expect(Math.max(...record.buckets.map((b) => b.probeMaxMs!))).toBeGreaterThanOrEqual(300);
    // The stall counts in every bucket it covered, not only the one it ended in.
    expect(record.buckets.filter((b) => b.probeMaxMs! >= 300).length).toBeGreaterThanOrEqual(4);
    expect(record.summary.saturated).toBe(true);
  });

  test('a probe still stopped when the monitor stops: it is killed, and its lateness counted up to the stop', async () => {
    const noise = await monitor();
    await sleep(200);
    process.kill(noise.probePid, 'SIGSTOP');
    await sleep(500);
    const record = await noise.stop();

    expect(await waitUntilGone([noise.probePid], 1000)).toEqual([]);
    expect(record.buckets.at(-1)!.probeMaxMs).toBeGreaterThanOrEqual(400);
    expect(record.summary.saturated).toBe(true);
  });
});

describe('the probe never outlives the monitor', () => {
  test('it is gone once stop() returns', async () => {
    const noise = await monitor();
    expect(isAlive(noise.probePid)).toBe(true);
    await noise.stop();
    expect(isAlive(noise.probePid)).toBe(false);
  });

  test('it ends when the process that started it is SIGKILLed', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(parent);
    const probePid = await new Promise<number>((resolve, reject) => {
      parent.stdout!.once('data', (chunk) => resolve(Number(String(chunk).trim())));
      parent.once('exit', (code) => reject(new Error(`the monitor's process exited (${code}) before its probe ran`)));
    });
    expect(isAlive(probePid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await waitUntilGone([probePid], 5000)).toEqual([]);
  });
});

describe('CPU by party', () => {
  test("a busy process named as the app counts as the app's cores, and nowhere else", async () => {
    let busyPid: number | undefined;
    const noise = await monitor({ pids: () => ({ dbproof: [], app: busyPid ? [busyPid] : [], postgres: [] }) });
    // Busy until it has used 500 ms of CPU (however long a busy machine makes that), then idle
    // and still there, so the readings after it see all of it.
    const busy = spawn(
      process.execPath,
      [
        '-e',
        `while (process.cpuUsage().user < 500_000); process.stdout.write('done\\n'); setTimeout(() => {}, 30_000);`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    children.push(busy);
    busyPid = busy.pid;
    await new Promise((resolve) => busy.stdout!.once('data', resolve));
    await sleep(600);
    const used = cpuSeconds(busy.pid!);
    const record = await noise.stop();

    const app = record.buckets.map((b) => b.cpu.app);
    expect(Math.max(...app)).toBeGreaterThan(0.3);
    // Every bit of its CPU is counted, in its party, whatever the machine's speed.
    const counted = app.reduce((sum, cores) => sum + (cores * record.bucketMs) / 1000, 0);
    expect(counted).toBeGreaterThan(used - 0.05);
    expect(counted).toBeLessThan(used + 0.05);
    expect(record.buckets.every((b) => b.cpu.dbproof === 0 && b.cpu.postgres === 0)).toBe(true);
  });
});

describe('bad input and a probe that cannot start', () => {
  test.each([5, 20_000, 99.5, Number.NaN])(
    'bucketMs %s is a UsageError of one line naming the fix',
    async (bucketMs) => {
      const refusal = await startNoiseMonitor({ bucketMs }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(UsageError);
      expect((refusal as Error).message).toMatch(/bucketMs: give a whole number of ms from 10 to 10000/);
      expect((refusal as Error).message).not.toContain('\n');
    },
  );

  test('a probe whose Node.js is gone is an InfrastructureError of one line', async () => {
    const execPath = process.execPath;
    process.execPath = '/nonexistent/node';
    try {
      const refusal = await startNoiseMonitor().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(InfrastructureError);
      expect((refusal as Error).message).toMatch(
        /noise monitor's probe could not start \(spawn \/nonexistent\/node ENOENT\)/,
      );
      expect((refusal as Error).message).not.toContain('\n');
    } finally {
      process.execPath = execPath;
    }
  });
});
