// `npm test`'s background lane runs in a cgroup of the lowest CPU weight, its containers
// under it (scripts/low-cpu-group.mjs): what it makes it removes, a group left by a killed
// run is removed by the next, and a group that still holds a process is never forced.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { deadPid } from './process-support.ts';

interface LowCpuGroup {
  reason?: undefined;
  name: string;
  containersParent: string;
  add(pid: number): void;
  remove(): string[];
}
type Made = LowCpuGroup | { reason: string };
// A script of `npm test`'s own, in JavaScript: imported by a path TypeScript does not resolve.
const script = '../../scripts/low-cpu-group.mjs';
const { makeLowCpuGroup } = (await import(script)) as { makeLowCpuGroup: () => Made };

const CPU = '/sys/fs/cgroup/cpu';
const cgroupV1 = existsSync(path.join(CPU, 'cpu.shares'));

function made(): LowCpuGroup {
  const group = makeLowCpuGroup();
  if (group.reason !== undefined) throw new Error(`no group: ${group.reason}`);
  return group;
}

/** The process's cgroup in the cpu hierarchy, as /proc says. */
function cpuCgroupOf(pid: number): string | undefined {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes('cpu'));
  return line?.split(':')[2];
}

describe('the background lane’s low-CPU group', { skip: !cgroupV1 || process.getuid?.() !== 0 }, () => {
  test('weight 128 (an eighth of a process at normal priority), the lane’s processes and what they start inside it, removed once they end and only then', async () => {
    const group = made();
    try {
      expect(readFileSync(path.join(CPU, group.name, 'cpu.shares'), 'utf8').trim()).toBe('128');
      // Whose it is: npm test's pid (this process here).
      expect(group.name).toBe(`dbproof-test-${process.pid}`);
      expect(group.containersParent).toBe(`/${group.name}/containers`);
      // A shell that starts its child after it has been moved: the child is in the group too.
      const shell = spawn('sh', ['-c', 'sleep 0.5; exec sleep 30'], { stdio: 'ignore' });
      group.add(shell.pid!);
      expect(cpuCgroupOf(shell.pid!)).toBe(`/${group.name}/lane`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(cpuCgroupOf(shell.pid!)).toBe(`/${group.name}/lane`); // now the exec'd sleep
      // A group that still holds a process is left, and named.
      expect(group.remove()).toContain(path.join(CPU, group.name, 'lane'));
      expect(existsSync(path.join(CPU, group.name, 'lane'))).toBe(true);
      const ended = new Promise((resolve) => shell.once('exit', resolve));
      shell.kill('SIGKILL');
      await ended;
    } finally {
      expect(group.remove()).toEqual([]);
    }
    expect(existsSync(path.join(CPU, group.name))).toBe(false);
  });

  test('a group left by a killed run (its pid gone) is removed by the next, in every hierarchy Docker made it in', async () => {
    const stale = `dbproof-test-${await deadPid()}`;
    mkdirSync(path.join(CPU, stale, 'lane'), { recursive: true });
    const memory = '/sys/fs/cgroup/memory';
    const inMemory = existsSync(memory) ? path.join(memory, stale, 'containers') : undefined;
    if (inMemory) mkdirSync(inMemory, { recursive: true });
    // One of a run still going (this process) is not touched.
    const group = made();
    try {
      expect(existsSync(path.join(CPU, stale))).toBe(false);
      if (inMemory) expect(existsSync(path.join(memory, stale))).toBe(false);
      expect(existsSync(path.join(CPU, group.name, 'lane'))).toBe(true);
    } finally {
      expect(group.remove()).toEqual([]);
    }
  });
});
