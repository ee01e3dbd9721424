#!/usr/bin/env node
// `npm test`: the checks (scripts/checks.mjs), then vitest in two lanes at once (Playwright
// after the timed lane's files).
//
// - The timed lane: the vitest projects named `timed-*` (the verification suites that judge
//   timing budgets, and the open model's accuracy), one file at a time, at the machine's
//   normal CPU priority.
// - The background lane: every other project (the unit tier, dbproof's own files, the suites
//   that judge no time), at the lowest CPU priority (nice 19), so it takes the CPU the timed
//   lane leaves and never the CPU a timed measurement needs: the timed files are mostly
//   waiting (a fault's timeline, a load at a fixed rate), about a fifth of the machine alone.
//
// Before, the timed files ran after all the others, alone: 900 s in all on 2 cores (the
// others 500 s, the timed ones 400 s); in two lanes 560 s, every budget holding.
// `vitest run` alone still runs everything in one process, the timed files last
// (`sequence.groupOrder`); the lanes only make it faster. Arguments after `npm test --` go
// to both lanes' vitest (a file filter that matches nothing in one lane is not a failure).
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const playwright = path.join(root, 'node_modules', '@playwright', 'test', 'cli.js');
const extra = process.argv.slice(2);

const LANES = [
  { name: 'timed', projects: ['timed-*'], vitest: [], nice: 0, after: [playwright, 'test'] },
  // Four workers: the background files wait on processes much of the time (three left the
  // CPU a quarter idle), and nice 19 keeps them off the timed lane's CPU.
  { name: 'background', projects: ['!timed-*'], vitest: ['--maxWorkers=4'], nice: 19 },
];

/**
 * Runs node with `args` to its end; resolves with its exit code. With a `name`, its output is
 * prefixed with it line by line (two lanes write at once); without, it is this process's own.
 */
function run(name, args, nice = 0) {
  return new Promise((resolve) => {
    // Piped, vitest would drop its colours: keep them when this terminal has them.
    const env = name && process.stdout.isTTY ? { FORCE_COLOR: '1', ...process.env } : process.env;
    const stdio = name ? ['ignore', 'pipe', 'pipe'] : 'inherit';
    const child = spawn(process.execPath, args, { cwd: root, env, stdio });
    children.add(child);
    // Before the child has started its workers (node takes longer than this to start), so
    // every process it makes inherits the priority.
    if (nice !== 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, nice);
      } catch {
        // A machine that refuses it runs the lanes at one priority: slower timed files, same truth.
      }
    }
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
        for (const line of lines) to.write(`[${name}] ${line}\n`);
      });
      from.on('end', () => {
        if (partial) to.write(`[${name}] ${partial}\n`);
      });
    }
    child.once('error', (error) => {
      process.stderr.write(`${name ?? args[0]}: could not start: ${error.message}\n`);
      resolve(1);
    });
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? 1 : 0));
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
if (checks !== 0) process.exit(checks);

const started = Date.now();
const vitestArgs = (lane) => [
  vitest,
  'run',
  ...lane.projects.map((p) => `--project=${p}`),
  ...lane.vitest,
  '--passWithNoTests',
  ...extra,
];
const codes = await Promise.all(
  LANES.map(async (lane) => {
    const code = await run(lane.name, vitestArgs(lane), lane.nice);
    process.stdout.write(`[${lane.name}] vitest ended in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    // Playwright after the timed files, at normal priority, while the background lane still runs.
    if (code !== 0 || !lane.after) return code;
    return run(undefined, lane.after);
  }),
);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const failed = LANES.filter((_, i) => codes[i] !== 0).map((lane) => lane.name);
process.stdout.write(
  `tests: both lanes ended in ${seconds} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`,
);
process.exit(codes.find((c) => c !== 0) ?? 0);
