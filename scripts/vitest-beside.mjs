#!/usr/bin/env node
// `npm test`'s vitest step: the `suites` project (its files take turns on one shared
// topology, fileParallelism: false) in one vitest process, the other projects in another, at
// the same time. In one process vitest would run the suites after everything else, on one
// core, for about 5 minutes (issue 14). The other projects' output goes out as it comes; the
// suites' is kept and printed whole at the end, so the two never interleave. The exit code is
// the worse of the two.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(2);

function run(name, projects, live) {
  const child = spawn(process.execPath, [vitest, 'run', ...projects.flatMap((p) => ['--project', p]), ...extra], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
  });
  let output = '';
  if (live) {
    child.stdout.pipe(process.stdout);
    child.stderr.pipe(process.stderr);
  } else {
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
  }
  // Ctrl-C or a kill of this script ends both vitests (each then stops what it started).
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const started = Date.now();
  const timer = setInterval(() => {
    if (!live) process.stderr.write(`vitest ${name}: running for ${Math.round((Date.now() - started) / 1000)} s\n`);
  }, 60_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearInterval(timer);
      resolve({ name, code: code ?? (signal ? 1 : 0), output });
    }),
  );
}

const results = await Promise.all([
  run('suites', ['suites'], false),
  run('dbproof and unit', ['dbproof', 'unit'], true),
]);
process.stdout.write(`\n===== vitest: suites =====\n${results[0].output}`);
const worst = Math.max(...results.map((r) => r.code));
for (const { name, code } of results) process.stdout.write(`vitest ${name}: exit ${code}\n`);
process.exit(worst);
