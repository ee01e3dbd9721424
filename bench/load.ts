/**
 * `npm run bench -- load`: the requests/s dbproof's closed-model path (autocannon in its
 * own process, every response recorded into dbproof's HDR timeline) reaches against a
 * minimal HTTP server on 127.0.0.1, next to raw autocannon and wrk in the same run.
 * 10 connections, 5 s each, three rounds alternated; medians. Then the whole `dbproof gate`
 * on the reference app's demo config, with where its time goes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../harness/results/run-result.ts';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runEngine } from '../load/engines/run.ts';

const SERVER = fileURLToPath(new URL('../test/support/instant-server.ts', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const has = (command: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export async function benchLoad(): Promise<void> {
  const server = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    server.stdout!.once('data', (chunk) => resolve(String(chunk).trim())),
  );
  const seconds = 5;
  const runs = { dbproof: [] as number[], autocannon: [] as number[], wrk: [] as number[] };
  try {
    for (let round = 0; round < 3; round++) {
      const report = await runEngine({ url, connections: 10, durationMs: seconds * 1000 });
      runs.dbproof.push(report.requests / seconds);
      const raw = JSON.parse(
        execFileSync(process.execPath, [AUTOCANNON, '-c', '10', '-d', String(seconds), '--json', url], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      ) as { requests: { total: number } };
      runs.autocannon.push(raw.requests.total / seconds);
      if (has('wrk')) {
        const out = execFileSync('wrk', ['-t1', '-c10', `-d${seconds}s`, url], { encoding: 'utf8' });
        runs.wrk.push(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]));
      }
    }
  } finally {
    server.kill('SIGTERM');
  }
  const dbproof = median(runs.dbproof);
  const autocannon = median(runs.autocannon);
  const line = (name: string, xs: number[]) =>
    `  ${name.padEnd(28)} ${median(xs).toFixed(0).padStart(7)} requests/s   (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
  console.log(
    `load: 10 connections, ${seconds} s, a minimal HTTP server on 127.0.0.1 (its own process), median of 3 alternated rounds`,
  );
  console.log(line("dbproof's autocannon path", runs.dbproof));
  console.log(line('raw autocannon (CLI)', runs.autocannon));
  if (runs.wrk.length) console.log(line('wrk -t1', runs.wrk));
  else console.log('  wrk                          not installed (apt-get install wrk)');
  console.log(
    `  dbproof / raw autocannon     ${((dbproof / autocannon) * 100).toFixed(1)} %   (target: at least 90 %)`,
  );
}

/** The demo gate (--demo), from a scratch folder (its results kept apart), timed end to end. */
export async function benchGate(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-bench-gate-'));
  try {
    const started = performance.now();
    const gate = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('../bin/dbproof.js', import.meta.url)), 'gate', '--demo', '--json'],
      { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    const wallMs = performance.now() - started;
    if (gate.status !== 0 && gate.status !== 1)
      throw new Error(
        `dbproof gate failed (exit ${gate.status}): ${gate.stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
    const run = JSON.parse(gate.stdout) as RunResult;
    const suitesMs = run.suites.reduce((sum, s) => sum + s.durationMs, 0);
    const loadsMs = run.loads.reduce((sum, l) => sum + l.durationMs, 0);
    const s = (ms: number) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
    console.log(
      `gate: \`dbproof gate\` on the reference app's demo config (${run.suites.length} suites, ${run.loads.length} load scenarios, ${run.verdicts.length} budgets, ${os.cpus().length} CPUs)`,
    );
    console.log(
      `  whole run                  ${s(wallMs)}   (target: under 180 s) ${run.pass ? 'PASS' : 'FAIL'} ${run.verdicts.filter((v) => v.pass).length}/${run.verdicts.length}`,
    );
    console.log(
      `  suites                     ${s(suitesMs)}   (${run.suites.map((x) => `${x.suite} ${(x.durationMs / 1000).toFixed(1)}`).join(', ')})`,
    );
    console.log(`  load scenarios (measured)  ${s(loadsMs)}`);
    console.log(
      `  the rest                   ${s(wallMs - suitesMs - loadsMs)}   (topologies, seeding, the app, warm-ups, healing, results)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
