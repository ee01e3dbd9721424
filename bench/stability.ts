/**
 * `npm run bench -- stability` (issue 13): does a busy machine ever turn into a false FAIL?
 *
 * The demo gate (the reference app, every suite, both load scenarios) N times in each of:
 * a quiet machine; beside a CPU hog (`stress-ng --cpu 1`); beside a second gate running in
 * parallel; and the naive variant (EXAMPLE_NAIVE=1) on a quiet machine. Targets: the
 * reference app never FAILs (each run PASS, or INCONCLUSIVE with its evidence), and the
 * naive variant FAILs every run. Then the latency truth check: the open model against a
 * server with a known distribution (answers at once, frozen 1 s every 5 s), quiet and
 * beside the hog: within 10 % of the true p95/p99/max, or flagged as saturated, never
 * silently off. N is DBPROOF_STABILITY_RUNS (default 3); the whole bench takes about
 * 4 × N gate runs plus a minute.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { judgeMachine, startNoiseMonitor } from '../harness/noise/index.ts';
import type { RunResult } from '../harness/results/run-result.ts';
import { runEngine } from '../load/engines/run.ts';
import { summarise } from '../load/summary.ts';
import { runCli } from '../test/support/cli.ts';
import { stallPeriodically, stallTruth, startInstantServer } from '../test/support/instant.ts';

const RUNS = Number(process.env.DBPROOF_STABILITY_RUNS ?? 3);

interface GateRun {
  code: number | null;
  word: string;
  held: string;
  retried: number;
  probeMaxMs: number;
  broken: string[];
  seconds: number;
}

/** One demo gate (--demo) in a folder of its own, with `env` added. */
async function gate(env: NodeJS.ProcessEnv = {}): Promise<GateRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-bench-stability-'));
  const started = performance.now();
  const { code, stdout, stderr } = await runCli(['gate', '--demo', '--json'], { cwd: dir, env }).finally(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const seconds = (performance.now() - started) / 1000;
  let run: RunResult;
  try {
    run = JSON.parse(stdout) as RunResult;
  } catch {
    // Kept for a look: which characters made it not JSON, and the whole of what the gate said.
    const kept = path.join(os.tmpdir(), `dbproof-bench-stability-${Date.now()}`);
    writeFileSync(`${kept}.stdout.txt`, stdout);
    writeFileSync(`${kept}.stderr.txt`, stderr);
    const last = `${stderr.trim().split('\n').slice(-2).join(' ')} (stdout: ${stdout.length} characters, not JSON: ${JSON.stringify(stdout.slice(0, 80))}; all of it in ${kept}.std{out,err}.txt)`;
    return { code, word: 'ERROR', held: '-', retried: 0, probeMaxMs: 0, broken: [last], seconds };
  }
  const noise = [...run.suites, ...run.loads].map((r) => r.noise?.summary.probeMaxMs ?? 0);
  return {
    code,
    word: run.pass ? 'PASS' : run.inconclusive ? 'INCONCLUSIVE' : 'FAIL',
    held: `${run.verdicts.filter((v) => v.pass).length}/${run.verdicts.length}`,
    retried: run.earlierAttempts.length,
    probeMaxMs: Math.max(0, ...noise),
    broken: run.verdicts
      .filter((v) => !v.pass)
      .map((v) => `${v.inconclusive ? 'INCONCLUSIVE' : 'FAIL'} ${v.source}: ${v.budget.metric}=${v.measured}`),
    seconds,
  };
}

function hog(): ChildProcess | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v stress-ng'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  // Bounded by its own timeout too: a bench killed before it stops the hog leaves it for minutes, not an hour.
  return spawn('stress-ng', ['--cpu', '1', '--timeout', `${RUNS * 300}s`, '--quiet'], { stdio: 'ignore' });
}

function stopHog(child: ChildProcess | undefined): void {
  child?.kill('SIGTERM');
}

function print(condition: string, runs: GateRun[], expected: 'no FAIL' | 'every run FAILs'): void {
  const fails = runs.filter((r) => r.word === 'FAIL').length;
  const ok = expected === 'no FAIL' ? fails === 0 && runs.every((r) => r.word !== 'ERROR') : fails === runs.length;
  console.log(
    `  ${condition.padEnd(34)} ${runs.map((r) => `${r.word} ${r.held}`).join(', ')}   ${ok ? 'ok' : 'MISSED'} (target: ${expected})`,
  );
  for (const [i, r] of runs.entries()) {
    const detail = r.broken.length ? `; ${r.broken.slice(0, 4).join('; ')}` : '';
    console.log(
      `      run ${i + 1}: exit ${r.code}, ${r.seconds.toFixed(0)} s, ${r.retried} attempt(s) run again, probe worst ${r.probeMaxMs} ms${detail}`,
    );
  }
}

async function truthCheck(label: string): Promise<void> {
  const { url, process: server } = await startInstantServer();
  const DURATION_MS = 10_000;
  const stalling = stallPeriodically(server, { periodMs: 5000, stallMs: 1000, untilMs: DURATION_MS });
  try {
    const monitor = await startNoiseMonitor();
    const report = await runEngine({ url, rate: 200, durationMs: DURATION_MS });
    // The probe's window or the engine's own lateness, as the gate judges an attempt.
    const machine = judgeMachine((await monitor.stop()).summary, report.buckets);
    const measured = summarise(report, { rate: 200 }).latencyMs;
    const truth = stallTruth(stalling.stop(), DURATION_MS);
    const off = (k: 'p95' | 'p99' | 'max') => (measured[k] - truth[k]) / truth[k];
    const worst = Math.max(...(['p95', 'p99', 'max'] as const).map((k) => Math.abs(off(k))));
    const verdict =
      worst <= 0.1 ? 'within 10 %' : machine.saturated ? 'off, and flagged saturated' : 'OFF, NOT FLAGGED';
    const fmt = (k: 'p95' | 'p99' | 'max') =>
      `${k} ${measured[k].toFixed(0)}/${truth[k].toFixed(0)} ms (${(off(k) * 100).toFixed(1)} %)`;
    console.log(`  truth check, ${label.padEnd(22)} ${fmt('p95')}, ${fmt('p99')}, ${fmt('max')}: ${verdict}`);
    console.log(`      machine: ${machine.evidence}`);
  } finally {
    stalling.stop();
    server.kill('SIGTERM');
  }
}

export async function benchStability(): Promise<void> {
  console.log(`stability: the demo gate ${RUNS} times per condition (${os.cpus().length} CPUs)`);
  const quiet: GateRun[] = [];
  for (let i = 0; i < RUNS; i++) quiet.push(await gate());
  print('quiet machine', quiet, 'no FAIL');

  const busy: GateRun[] = [];
  const cpuHog = hog();
  if (!cpuHog)
    console.log(
      '  beside stress-ng --cpu 1            skipped: stress-ng is not installed (apt-get install stress-ng)',
    );
  else {
    try {
      for (let i = 0; i < RUNS; i++) busy.push(await gate());
    } finally {
      stopHog(cpuHog);
    }
    print('beside stress-ng --cpu 1', busy, 'no FAIL');
  }

  const parallel: GateRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [a, b] = await Promise.all([gate(), gate()]);
    parallel.push(a!, b!);
  }
  print('two gates in parallel', parallel, 'no FAIL');

  const naive: GateRun[] = [];
  for (let i = 0; i < RUNS; i++) naive.push(await gate({ EXAMPLE_NAIVE: '1' }));
  print('naive variant, quiet', naive, 'every run FAILs');

  await truthCheck('quiet');
  const truthHog = hog();
  if (truthHog) {
    try {
      await truthCheck('beside stress-ng');
    } finally {
      stopHog(truthHog);
    }
  }
}
