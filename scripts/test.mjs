#!/usr/bin/env node
// `npm test`: the checks (scripts/checks.mjs), then vitest in two lanes, one after the
// other, then Playwright.
//
// - timed: the vitest projects named `timed-*` (the verification suites that judge timing
//   budgets, the gate's tests, the rate limiter, the open model's accuracy), one file at a
//   time, alone on the machine.
// - the rest: every other project, two files at a time (DBPROOF_TEST_WORKERS).
//
// The two lanes once ran at the same time, the rest at nice 19: 560 s in all on 2 cores of
// normal speed (900 s one after the other), every budget holding. On a machine about 2.5
// times slower (CI's, now) the machine was overloaded and whichever lane was lower starved:
// at nice 19 the rest's rate limiter answered past its time-out and a gate's load engine
// outran its own; the rest in a cgroup of weight 2, then 128, with its Docker work after
// the timed lane, failed on start-up time-outs of its own (Postgres refusing connections, a
// container that could not be frozen); and the container tests' work (dockerd's, runc's,
// which no priority of ours reaches) opened every breaker of a timed suite's good app. Alone,
// each lane passes. So they run one after the other: a verdict on time is only worth having
// where the machine is not ours to share.
// `vitest run` alone runs everything in one process, the timed files last
// (`sequence.groupOrder`). Arguments after `npm test --` (a file filter, `-t`) go to both
// lanes' vitest; with them, a lane that matches no file is not a failure, but both matching
// none is, and Playwright is left out.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failedTestsReader } from './failed-tests.mjs';

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
  { name: 'timed', projects: ['timed-*'] },
  // Two workers (DBPROOF_TEST_WORKERS, read by vitest.config.ts: vitest's --maxWorkers does
  // not reach the projects). Named, not `!timed-*`: a project added later has to be placed.
  { name: 'rest', projects: ['unit', 'dbproof', 'suites-untimed'], env: { DBPROOF_TEST_WORKERS: '2' } },
  ...(filtered ? [] : [{ name: 'playwright', command: [playwright, 'test'] }]),
];

/**
 * Runs node with `args` to its end; resolves with its exit code and whether vitest said it
 * found no test file. Its output is prefixed with `name` line by line, or is this process's
 * own without a name.
 */
function run(name, args, laneEnv = {}) {
  return new Promise((resolve) => {
    // Piped, vitest would drop its colours: keep them when this terminal has them.
    const env = { ...(name && process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}), ...process.env, ...laneEnv };
    const stdio = name ? ['ignore', 'pipe', 'pipe'] : 'inherit';
    const child = spawn(process.execPath, args, { cwd: root, env, stdio });
    children.add(child);
    let noFiles = false;
    // One reader per stream: vitest's failures go to stderr, its banners to stdout.
    const readers = [];
    for (const [from, to] of name
      ? [
          [child.stdout, process.stdout],
          [child.stderr, process.stderr],
        ]
      : []) {
      let partial = '';
      const reader = failedTestsReader();
      readers.push(reader);
      from.setEncoding('utf8');
      from.on('data', (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        for (const line of lines) {
          if (line.includes('No test files found')) noFiles = true;
          reader.feed(line);
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
      for (const reader of readers) {
        for (const { test, error } of reader.failures()) failures.push(`[${name}] ${test}\n    ${error}`);
        for (const { test, error } of reader.retried()) retried.push(`[${name}] ${test}\n    first attempt: ${error}`);
      }
      // Killed (the kernel's OOM killer, a CI cancel): said, not taken for a test failure.
      if (signal) process.stderr.write(`npm test: ${name ?? path.basename(args[0])} was killed by ${signal}\n`);
      resolve({ code: code ?? 128 + (constants.signals[signal] ?? 0), noFiles });
    });
  });
}

const children = new Set();
/** Each failed test vitest named, with its error's first line, said again at the end. */
const failures = [];
/** Each test that passed only when retried, with its first attempt's error. */
const retried = [];
// A CI cancel (SIGTERM to this process alone): the running lane's vitest is told, and stops
// its topologies itself; no later lane starts. Ctrl-C reaches every process of the
// terminal's group already: this one only waits for the lane to end (a second SIGINT would
// make vitest skip its teardown), and starts no other.
let cancelled = false;
process.on('SIGTERM', () => {
  cancelled = true;
  for (const child of children) child.kill('SIGTERM');
});
process.on('SIGINT', () => {
  cancelled = true;
});

const checks = await run(undefined, [path.join(root, 'scripts', 'checks.mjs')]);
if (checks.code !== 0) process.exit(checks.code);

const started = Date.now();
const vitestArgs = (lane) => [
  vitest,
  'run',
  ...lane.projects.map((p) => `--project=${p}`),
  // A filter may match one lane's files only; unfiltered, a lane with no file is an error.
  ...(filtered ? ['--passWithNoTests'] : []),
  ...extra,
];
const results = [];
for (const lane of LANES) {
  const result = await run(lane.name, lane.command ?? vitestArgs(lane), lane.env);
  process.stdout.write(`[${lane.name}] ended in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  results.push({ ...result, vitest: !lane.command });
  // A CI cancel stops the run, not only the lane.
  if (cancelled) break;
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (retried.length > 0) {
  process.stdout.write(`\ntests: ${retried.length} passed only when retried:\n`);
  for (const test of retried) process.stdout.write(`${test}\n`);
}
if (failures.length > 0) {
  process.stdout.write(`\ntests: ${failures.length} failed, as vitest named them above:\n`);
  for (const failure of failures.slice(0, 20)) process.stdout.write(`${failure}\n`);
  if (failures.length > 20) process.stdout.write(`… and ${failures.length - 20} more, above\n`);
}
const failed = LANES.filter((_, i) => results[i] && results[i].code !== 0).map((lane) => lane.name);
process.stdout.write(
  `tests: the lanes ended in ${seconds} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`,
);
if (results.filter((r) => r.vitest).every((r) => r.noFiles)) {
  console.error(`npm test: no test file matched ${extra.join(' ')}`);
  process.exit(1);
}
process.exit(results.find((r) => r.code !== 0)?.code ?? 0);
