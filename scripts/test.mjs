#!/usr/bin/env node
// `npm test`: the checks (scripts/checks.mjs), then vitest in three lanes, and Playwright.
//
// - timed: the vitest projects named `timed-*` (the verification suites that judge timing
//   budgets, the gate's tests, the open model's accuracy), one file at a time, at the
//   machine's normal CPU priority.
// - background, at the same time: the files that start no container and judge no time (the
//   unit tier, most of dbproof's own files, the suites that count keys and statements), at
//   nice 19 and, where the machine allows, in a cgroup of low CPU weight
//   (scripts/low-cpu-group.mjs): it takes the CPU the timed lane leaves (about half of 2
//   slow cores: the timed files mostly wait on a fault's timeline or a fixed-rate load).
// - after-timed, once the timed lane has ended, beside what is left of the background lane
//   and Playwright: the `after-timed` project (vitest.config.ts: the files that start Docker
//   containers, whose work no priority reaches, and those that hold dbproof's own runs to
//   timing), at normal priority.
//
// Before, the timed files ran after all the others, alone: 900 s in all on 2 cores (the
// others 500 s, the timed ones 400 s); in two lanes 560 s, every budget holding, on a
// machine of normal speed. On one about 2.5 times slower two lanes broke budgets on both
// sides (a starved rate limiter's answers past its time-out, a frozen replica's breaker
// opening the primary's beside container tests): hence the third lane.
// `vitest run` alone still runs everything in one process, the timed files last
// (`sequence.groupOrder`); the lanes only make it faster. Arguments after `npm test --` (a
// file filter, `-t`) go to every lane's vitest; with them, a lane that matches no file is not
// a failure, but all of them matching none is, and Playwright is left out.
import { spawn, spawnSync } from 'node:child_process';
import { constants, setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLowCpuGroup } from './low-cpu-group.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const playwright = path.join(root, 'node_modules', '@playwright', 'test', 'cli.js');
const extra = process.argv.slice(2);
if (extra.some((a) => a === '--project' || a.startsWith('--project='))) {
  // vitest ORs --project flags: the lane's own would still run beside the one given.
  console.error("npm test: --project is the lanes' own; run one project with `npx vitest run --project NAME`");
  process.exit(2);
}
const filtered = extra.length > 0;

const LANES = [
  { name: 'timed', projects: ['timed-*'], nice: 0 },
  // Two workers (DBPROOF_TEST_WORKERS, read by vitest.config.ts: --maxWorkers does not reach
  // the projects, so the `--maxWorkers=4` this lane once had never applied). Three overloaded
  // the machine: load 14, gates past their 90 s time-out, and the timed lane's budgets broken
  // (a probe p99 of 1.4 s against 250 ms) despite nice 19. In a cgroup of low weight as well
  // where there is one: nice 19 leaves each of the lane's dozens of processes a weight of
  // its own.
  {
    name: 'background',
    // Named, not `!timed-*` with `!after-timed`: vitest includes a project any one pattern matches.
    projects: ['unit', 'dbproof', 'suites-untimed'],
    nice: 19,
    lowCpuGroup: true,
    env: { DBPROOF_TEST_WORKERS: '2' },
  },
  { name: 'after-timed', projects: ['after-timed'], nice: 0, waitFor: 'timed', env: { DBPROOF_TEST_WORKERS: '2' } },
  ...(filtered ? [] : [{ name: 'playwright', command: [playwright, 'test'], nice: 0, waitFor: 'timed' }]),
];

/**
 * `nice -n 19` where there is one: the priority is set before node starts, so every thread
 * of the lane's vitest has it (on Linux a thread's nice is its own; setting it on a running
 * process reaches its main thread only).
 */
const NICE = process.platform !== 'win32' && spawnSync('nice', ['-n', '0', 'true']).status === 0;

/**
 * Runs node with `args` to its end; resolves with its exit code and whether vitest said it
 * found no test file. Its output is prefixed with `name` line by line (two lanes write at
 * once), or is this process's own without a name.
 */
function run(name, args, nice = 0, laneEnv = {}, group = undefined) {
  return new Promise((resolve) => {
    // Piped, vitest would drop its colours: keep them when this terminal has them.
    const env = { ...(name && process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}), ...process.env, ...laneEnv };
    const stdio = name ? ['ignore', 'pipe', 'pipe'] : 'inherit';
    const [command, commandArgs] =
      nice !== 0 && NICE ? ['nice', ['-n', String(nice), process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(command, commandArgs, { cwd: root, env, stdio });
    children.add(child);
    if (group && child.pid !== undefined) {
      try {
        // Before it starts anything: what it starts is in the group too.
        group.add(child.pid);
      } catch (error) {
        process.stderr.write(`npm test: could not put the ${name} lane in ${group.name} (${error.message})\n`);
      }
    }
    if (nice !== 0 && !NICE && child.pid !== undefined) {
      try {
        // No `nice` command: the main thread's priority, which the processes it starts inherit.
        setPriority(child.pid, nice);
      } catch (error) {
        // At one priority the timed budgets have failed before (vitest.config.ts): say so.
        process.stderr.write(
          `npm test: could not lower the ${name} lane's priority (${error.message}); timed suites may fail their budgets\n`,
        );
      }
    }
    let noFiles = false;
    for (const [from, to] of name
      ? [
          [child.stdout, process.stdout],
          [child.stderr, process.stderr],
        ]
      : []) {
      let partial = '';
      from.setEncoding('utf8');
      from.on('data', (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        for (const line of lines) {
          if (line.includes('No test files found')) noFiles = true;
          to.write(`[${name}] ${line}\n`);
        }
      });
      from.on('end', () => {
        if (partial) to.write(`[${name}] ${partial}\n`);
      });
    }
    child.once('error', (error) => {
      process.stderr.write(`${name ?? args[0]}: could not start: ${error.message}\n`);
      resolve({ code: 1, noFiles });
    });
    child.once('close', (code, signal) => {
      children.delete(child);
      // Killed (the kernel's OOM killer, a CI cancel): said, not taken for a test failure.
      if (signal) process.stderr.write(`npm test: ${name ?? path.basename(args[0])} was killed by ${signal}\n`);
      resolve({ code: code ?? 128 + (constants.signals[signal] ?? 0), noFiles });
    });
  });
}

const children = new Set();
// A CI cancel (SIGTERM to this process alone): each lane's vitest is told, and stops its
// topologies itself. Ctrl-C reaches every process of the terminal's group already: this one
// only waits for the lanes to end (a second SIGINT would make vitest skip its teardown).
process.on('SIGTERM', () => {
  for (const child of children) child.kill('SIGTERM');
});
process.on('SIGINT', () => {});

const checks = await run(undefined, [path.join(root, 'scripts', 'checks.mjs')]);
if (checks.code !== 0) process.exit(checks.code);

const lowCpuGroup = makeLowCpuGroup();
if (lowCpuGroup.reason)
  process.stderr.write(`npm test: the background lane runs at nice 19 only: ${lowCpuGroup.reason}\n`);

const started = Date.now();
const vitestArgs = (lane) => [
  vitest,
  'run',
  ...lane.projects.map((p) => `--project=${p}`),
  // A filter may match one lane's files only; unfiltered, a lane with no file is an error.
  ...(filtered ? ['--passWithNoTests'] : []),
  ...extra,
];
// Each lane's promise, by name: a lane that waits starts once the other has ended, passed or
// failed (every lane's failures are reported). A lane waits only for one listed before it.
const ended = new Map();
for (const lane of LANES) {
  ended.set(
    lane.name,
    (async () => {
      if (lane.waitFor) await ended.get(lane.waitFor);
      const group = lane.lowCpuGroup && !lowCpuGroup.reason ? lowCpuGroup : undefined;
      const env = group ? { ...lane.env, DBPROOF_CONTAINER_CGROUP_PARENT: group.containersParent } : lane.env;
      const result = await run(lane.name, lane.command ?? vitestArgs(lane), lane.nice, env, group);
      process.stdout.write(`[${lane.name}] ended in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      return { ...result, vitest: !lane.command };
    })(),
  );
}
const results = await Promise.all(LANES.map((lane) => ended.get(lane.name)));
const left = lowCpuGroup.reason ? [] : lowCpuGroup.remove();
if (left.length > 0)
  process.stderr.write(
    `npm test: ${left.join(', ')} still holds processes; the next npm test removes it once they end\n`,
  );
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const failed = LANES.filter((_, i) => results[i].code !== 0).map((lane) => lane.name);
process.stdout.write(
  `tests: every lane ended in ${seconds} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`,
);
if (results.filter((r) => r.vitest).every((r) => r.noFiles)) {
  console.error(`npm test: no test file matched ${extra.join(' ')}`);
  process.exit(1);
}
process.exit(results.find((r) => r.code !== 0)?.code ?? 0);
