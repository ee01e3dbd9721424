/**
 * `npm run bench -- open-model` (issue 14): does dbproof's open model keep the server, not
 * itself, the bottleneck? Against the minimal HTTP server (its own process, 127.0.0.1):
 * first the server's ceiling, with `wrk -t1 -c10` and with dbproof's closed model (autocannon,
 * 10 connections); then dbproof's open model at 10 %, 50 % and 80 % of that ceiling, 5 s
 * each, with what it achieved, its errors and its p50; and at 10 % the closed model held to
 * the same throughput (autocannon `-R`), whose p50 the open model's should be within 1.5× of.
 * Targets: at 80 % of the ceiling at least 98 % of the target achieved with under 0.1 %
 * errors; at 10 % p50 within 1.5× of the closed model's.
 */
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import { judgeMachine, startNoiseMonitor } from '../harness/noise/index.ts';
import { runEngine } from '../load/engines/run.ts';
import { summarise } from '../load/summary.ts';
import { histogram } from '../load/timeline.ts';
import { startInstantServer } from '../test/support/instant.ts';

const SECONDS = 5;

function wrkCeiling(url: string): number | undefined {
  try {
    const out = execFileSync('wrk', ['-t1', '-c10', `-d${SECONDS}s`, url], { encoding: 'utf8' });
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
  } catch {
    return undefined;
  }
}

/**
 * autocannon held to `rate` requests/s over 10 connections: the closed model at a given
 * throughput. Its own percentiles are whole milliseconds; each response's time (a float, ms)
 * goes into an HDR histogram in microseconds instead.
 */
async function autocannonAt(url: string, rate: number): Promise<{ rps: number; p50: number }> {
  const latency = histogram();
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: 10, overallRate: rate, duration: SECONDS, skipAggregateResult: true } as autocannon.Options,
      (error) => (error ? reject(error) : resolve()),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      answered++;
      latency.recordValue(Math.max(1, Math.round(responseTime * 1000)));
    });
  });
  return { rps: answered / SECONDS, p50: latency.getValueAtPercentile(50) / 1000 };
}

export async function benchOpenModel(): Promise<void> {
  const { url, process: server } = await startInstantServer();
  try {
    const wrk = wrkCeiling(url);
    const closed = summarise(await runEngine({ url, connections: 10, durationMs: SECONDS * 1000 }), {
      connections: 10,
    });
    const ceiling = Math.max(wrk ?? 0, closed.rps);
    console.log(
      `open-model: a minimal HTTP server on 127.0.0.1 (its own process), ${SECONDS} s per load, ${ceiling.toFixed(0)} requests/s ceiling`,
    );
    console.log(
      `  ceiling, wrk -t1 -c10                 ${wrk ? `${wrk.toFixed(0)} requests/s` : 'wrk not installed'}`,
    );
    console.log(
      `  ceiling, dbproof closed model (c10)   ${closed.rps.toFixed(0)} requests/s, p50 ${closed.latencyMs.p50} ms`,
    );
    for (const share of [0.1, 0.5, 0.8]) {
      const rate = Math.round(ceiling * share);
      // Watched, as the gate is: on this shared machine a neighbour's burst shows in the line below.
      const monitor = await startNoiseMonitor();
      const report = await runEngine({ url, rate, durationMs: SECONDS * 1000, warmupMs: 500 });
      const machine = judgeMachine((await monitor.stop()).summary, report.buckets);
      const open = summarise(report, { rate });
      const achieved = open.rps / rate;
      const errors = open.requests ? open.errors / open.requests : 0;
      let line = `  open model at ${String(share * 100).padStart(2)} % (${String(rate).padStart(6)}/s)  achieved ${(achieved * 100).toFixed(1)} %, errors ${(errors * 100).toFixed(2)} %, p50 ${open.latencyMs.p50} ms, p99 ${open.latencyMs.p99} ms, ${open.connections} connections, ${open.workers ?? 1} worker(s), ${open.waited ?? 0} waited, ${open.unsent ?? 0} unsent`;
      if (share === 0.8)
        line += `   ${achieved >= 0.98 && errors < 0.001 ? 'ok' : 'MISSED'} (target: ≥ 98 % achieved, < 0.1 % errors)`;
      if (share === 0.1) {
        const held = await autocannonAt(url, rate);
        const ratio = open.latencyMs.p50 / Math.max(held.p50, 0.001);
        line += `\n  closed model held to ${rate}/s (autocannon -R)  ${held.rps.toFixed(0)}/s, p50 ${held.p50} ms; open/closed p50 ${ratio.toFixed(2)}×   ${ratio <= 1.5 ? 'ok' : 'MISSED'} (target: ≤ 1.5×)`;
      }
      console.log(`${line}\n      machine: ${machine.saturated ? 'SATURATED, ' : ''}${machine.evidence}`);
    }
  } finally {
    server.kill('SIGTERM');
  }
}
