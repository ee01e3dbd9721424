/**
 * `npm run bench -- startup`: how long a shell waits for `dbproof` (issue 15: `--help` and a
 * usage error within 0.3 s; `up --detach` within 1 s), from the compiled package (dist/, built
 * first) and from the source (tsx, dist/ set aside), next to `vitest --help` and
 * `autocannon --help` timed in the same run, interleaved so a noisy neighbour slows all alike.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BIN = path.join(ROOT, 'bin', 'dbproof.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

function seconds(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const started = performance.now();
  spawnSync(command, args, { cwd, stdio: 'ignore', env: { ...process.env, ...env } });
  return (performance.now() - started) / 1000;
}

export async function benchStartup(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'dbproof-bench-startup-'));
  const state = path.join(cwd, 'state');
  const node = process.execPath;
  const cases: Record<string, () => number> = {
    'dbproof --help': () => seconds(node, [BIN, '--help'], cwd),
    'dbproof gate --bogus (a usage error)': () => seconds(node, [BIN, 'gate', '--bogus'], cwd),
    'dbproof up --detach, then down': () => {
      const up = seconds(node, [BIN, 'up', '--detach'], cwd, { DBPROOF_STATE_DIR: state });
      seconds(node, [BIN, 'down'], cwd, { DBPROOF_STATE_DIR: state });
      return up;
    },
    'vitest --help': () => seconds(node, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), '--help'], cwd),
    'autocannon --help': () => seconds(node, [path.join(ROOT, 'node_modules/autocannon/autocannon.js'), '--help'], cwd),
  };
  const dist = path.join(ROOT, 'dist');
  const aside = path.join(ROOT, 'dist.bench-aside');
  const times: Record<string, number[]> = {};
  const record = (name: string, seconds: number) => {
    times[name] = [...(times[name] ?? []), seconds];
  };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const [name, time] of Object.entries(cases)) {
        if (name.startsWith('dbproof')) {
          record(`${name} [dist]`, time());
          renameSync(dist, aside); // from source: no build to run
          try {
            record(`${name} [source]`, time());
          } finally {
            renameSync(aside, dist);
          }
        } else record(name, time());
      }
    }
  } finally {
    if (existsSync(aside) && !existsSync(dist)) renameSync(aside, dist);
    rmSync(cwd, { recursive: true, force: true });
  }
  console.log(`\nstartup, seconds from the shell (median of ${RUNS}, range)`);
  for (const [name, xs] of Object.entries(times))
    console.log(`  ${name.padEnd(48)} ${median(xs).toFixed(2)} s  (${range(xs)})`);
}
