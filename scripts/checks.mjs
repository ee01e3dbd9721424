#!/usr/bin/env node
// The checks `npm test` runs before vitest, at once instead of one after another: the build
// (dist/, which the CLI tests run), the type check of everything (tests too) and the lint.
// Each is single-threaded, so on 2 cores they take about the longest one's time, not the sum.
// Each one's output is printed whole when it ends, under its name; the exit code is the
// first failure's, and vitest does not start after one.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const CHECKS = [
  ['build', npm, ['run', '--silent', 'build']],
  ['type check', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit']],
  ['lint', npm, ['run', '--silent', 'lint']],
];

const results = await Promise.all(
  CHECKS.map(
    ([name, command, args]) =>
      new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        child.once('error', (error) => resolve({ name, code: 1, output: `${output}${error.message}\n`, started }));
        child.once('close', (code) => {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          process.stdout.write(`== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds} s\n${output}`);
          resolve({ name, code: code ?? 1 });
        });
      }),
  ),
);
const failed = results.filter((r) => r.code !== 0);
if (failed.length > 0) {
  process.stderr.write(`checks failed: ${failed.map((r) => r.name).join(', ')}\n`);
  process.exit(failed[0].code);
}
