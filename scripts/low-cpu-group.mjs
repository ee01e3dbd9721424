// A cgroup of the lowest CPU weight for `npm test`'s background lane, on Linux with a cgroup
// v1 `cpu` hierarchy this process may write (root, as in CI).
//
// Why: nice 19 gives each of the lane's threads a weight of 15 against a timed process's
// 1024, but the lane has dozens of runnable processes (Postgres backends, apps, load
// children), and its containers are not its children at all: Docker makes them under
// `/docker`, which competes with the whole machine as one task of weight 1024, whatever each
// container's --cpu-shares. In one group of weight 128 (SHARES), the lane and its containers
// together weigh an eighth of each timed process: they run mostly on the CPU the timed lane
// leaves, however many processes they have.
//
// Layout: /sys/fs/cgroup/cpu/dbproof-test-<pid>/lane (the lane's processes) and …/containers
// (Docker's --cgroup-parent: DBPROOF_CONTAINER_CGROUP_PARENT). Docker makes the parent in
// every controller's hierarchy it uses, so removal looks in each. A group left by a killed
// run (its pid gone) is removed by the next.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';
const PREFIX = 'dbproof-test-';
/**
 * The group's CPU weight: an eighth of one process at normal priority (1024), about what
 * eight busy threads at nice 19 weigh. At 2, the least the kernel takes, the lane was starved
 * for seconds at a time while the timed lane was busy: a Postgres it started refused
 * connections past their time-out, and Docker could not freeze a container in it.
 */
export const SHARES = 128;

/** Every hierarchy's copy of group `name` (Docker may have made one in each), deepest first. */
function copies(name) {
  let hierarchies = [];
  try {
    hierarchies = fs.readdirSync(ROOT).map((h) => path.join(ROOT, h));
  } catch {
    return [];
  }
  const found = [];
  for (const hierarchy of hierarchies) {
    const top = path.join(hierarchy, name);
    if (!fs.existsSync(top)) continue;
    // Children first: a cgroup directory is removed with rmdir once its children are.
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
      found.push(dir);
    };
    walk(top);
  }
  return found;
}

/** Removes group `name` where its processes have all gone; returns the directories left. */
function removeGroup(name) {
  const left = [];
  for (const dir of copies(name)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  }
  return left;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Makes the group, or returns undefined with the reason where it cannot (no cgroup v1 `cpu`
 * hierarchy, not writable): the lane then has nice 19 alone.
 */
export function makeLowCpuGroup() {
  const cpu = path.join(ROOT, 'cpu');
  if (!fs.existsSync(path.join(cpu, 'cpu.shares')))
    return { reason: 'no cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu' };
  // Groups of runs that were killed before they could remove theirs.
  for (const entry of fs.readdirSync(cpu)) {
    const pid = Number(entry.slice(PREFIX.length));
    if (entry.startsWith(PREFIX) && Number.isInteger(pid) && pid > 0 && !alive(pid)) removeGroup(entry);
  }
  const name = `${PREFIX}${process.pid}`;
  try {
    fs.mkdirSync(path.join(cpu, name));
    fs.writeFileSync(path.join(cpu, name, 'cpu.shares'), String(SHARES));
    fs.mkdirSync(path.join(cpu, name, 'lane'));
  } catch (error) {
    removeGroup(name);
    return { reason: `could not make a cgroup in ${cpu} (${error.code ?? error.message})` };
  }
  return {
    name,
    /** Docker's --cgroup-parent for the lane's containers. */
    containersParent: `/${name}/containers`,
    /** Moves process `pid` into the lane's group; the processes it starts after this are in it too. */
    add(pid) {
      fs.writeFileSync(path.join(cpu, name, 'lane', 'cgroup.procs'), String(pid));
    },
    /** Removes the group once its processes have ended; returns the directories that could not be removed. */
    remove() {
      return removeGroup(name);
    },
  };
}
