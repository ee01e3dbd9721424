/**
 * `npm run bench -- startup`: how long a shell waits for `dbproof` (issue 15: `--help` and a
 * usage error within 0.3 s; `up --detach` within 1 s), from the compiled package (dist/, built
 * first) and from the source (tsx: a copy of the checkout without dist/, so the checkout itself
 * is never touched), next to `vitest --help` and `autocannon --help` timed in the same run,
 * interleaved so a noisy neighbour slows all alike.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

function seconds(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const started = performance.now();
  spawnSync(command, args, { cwd, stdio: 'ignore', env: { ...process.env, ...env } });
  return (performance.now() - started) / 1000;
}

/** A copy of the checkout with its source and no build: its bin runs the source through tsx. */
function sourceOnlyCopy(dir: string): string {
  for (const part of ['package.json', 'bin', 'example', 'docker-compose.yml', 'harness', 'fixtures', 'load', 'suites'])
    cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return path.join(dir, 'bin', 'dbproof.js');
}

export async function benchStartup(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbproof-bench-startup-'));
  const cwd = path.join(scratch, 'cwd');
  const state = path.join(scratch, 'state');
  const node = process.execPath;
  const bins = { dist: path.join(ROOT, 'bin', 'dbproof.js'), source: sourceOnlyCopy(path.join(scratch, 'source')) };
  cpSync(path.join(ROOT, 'package.json'), path.join(cwd, 'package.json')); // makes cwd exist
  const dbproof: Record<string, (bin: string) => number> = {
    'dbproof --help': (bin) => seconds(node, [bin, '--help'], cwd),
    'dbproof gate --bogus (a usage error)': (bin) => seconds(node, [bin, 'gate', '--bogus'], cwd),
    'dbproof up --detach, then down': (bin) => {
      const up = seconds(node, [bin, 'up', '--detach'], cwd, { DBPROOF_STATE_DIR: state });
      seconds(node, [bin, 'down'], cwd, { DBPROOF_STATE_DIR: state });
      return up;
    },
  };
  const others: Record<string, () => number> = {
    'vitest --help': () => seconds(node, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), '--help'], cwd),
    'autocannon --help': () => seconds(node, [path.join(ROOT, 'node_modules/autocannon/autocannon.js'), '--help'], cwd),
  };
  const times: Record<string, number[]> = {};
  const record = (name: string, seconds: number) => {
    times[name] = [...(times[name] ?? []), seconds];
  };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const [name, time] of Object.entries(dbproof))
        for (const [from, bin] of Object.entries(bins)) record(`${name} [${from}]`, time(bin));
      for (const [name, time] of Object.entries(others)) record(name, time());
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`\nstartup, seconds from the shell (median of ${RUNS}, range)`);
  for (const [name, xs] of Object.entries(times))
    console.log(`  ${name.padEnd(48)} ${median(xs).toFixed(2)} s  (${range(xs)})`);
}
