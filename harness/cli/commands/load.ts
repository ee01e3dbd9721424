import { dependsOnTime, formatVerdict, inconclusive } from '../../budgets/index.ts';
import { judgeMachine, type NoiseSummary, startNoiseMonitor } from '../../noise/index.ts';
import { InfrastructureError, UsageError } from '../../errors.ts';
import { redact } from '../../redact.ts';
import { judgeLoad, parseBudgets } from '../../budgets/traffic.ts';
import { runEngine } from '../../../load/engines/run.ts';
import { K6_MISSING, k6OnPath, runK6 } from '../../../load/k6/run.ts';
import { progressReporter } from '../../../load/progress.ts';
import { describeThroughput, summarise } from '../../../load/summary.ts';
import { integerOption, parseArgs } from '../args.ts';
import { writeK6 } from './load-k6.ts';
import { printJson } from '../output.ts';

export const LOAD_HELP = `dbproof load <url> [--rate R] [--connections C] [--duration 30s] [--warmup 2s] [--budget p99=200ms,errors=0.1%] [--engine dbproof|k6] [--json]

Loads one URL, the way autocannon or wrk are used, and judges the budgets.
  --rate R          open model: R requests per second, each timed from when it was due
                    (a stalled server's tail is reported, not hidden); dbproof's engine, wrk2's
                    design: a fixed set of connections, each with its own constant-rate schedule
  --connections C   with --rate: the open model's connections (default rate/100, 10 to 200);
                    without: closed model, C clients in a loop (autocannon); 1 to 10000, default 10
  --duration D      measured time, e.g. 30s or 500ms (default 10s, at most 60m)
  --warmup D        run first and left out of the figures (default 0s, at most 10m)
  --timeout D       a request not answered in this time is an error (default 10s, at most 10m)
  --budget LIST     p50, p90, p95, p99, p99.9, max, mean (ms or s), errors (0.1% or a count), rps (a floor)
  --json            one object: percentiles (p50 … max), counts, errors, the model, the verdicts,
                    and noise (whether the machine was saturated, and the evidence)
  --no-monitor      do not watch the machine: a broken budget is a FAIL even on a saturated machine
  --engine E        dbproof (default: the open model or autocannon, as above) or k6: the same load
                    run by \`k6 run\` (k6 must be on PATH), k6's points read into the same figures
  --k6-script FILE  write the same load and budgets as a k6 script (TypeScript, thresholds from the
                    budgets) instead of running it; for loads beyond one machine
  --k6-operator N   with --k6-script: also write FILE.testrun.yaml, a k6-operator TestRun of parallelism N
The machine is watched meanwhile (a probe's wake-up lateness, CPU pressure, steal, the engine's own
lateness in sending): when it was
saturated, a line on stderr says so, and a broken budget that depends on time is INCONCLUSIVE.
Exit codes: 0 every budget holds · 1 one is broken · 2 bad input, a load that measured no request
(or, with no --budget, one on which every request failed), or INCONCLUSIVE (every broken budget
broke on a saturated machine)`;

/** The longest load, warm-up and time-out a command line may ask for, as a scenario's (load/scenario.ts). */
const MAX_MS = { duration: 3_600_000, warmup: 600_000, timeout: 600_000 } as const;

function durationOption(
  name: keyof typeof MAX_MS,
  raw: string | boolean | string[] | undefined,
  fallback: number,
): number {
  if (raw === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(String(raw));
  if (!match) throw new UsageError(`--${name} must be a duration such as 30s, 500ms or 2m (got '${raw}')`);
  const ms = Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  // Beyond this a load runs for ever in all but name (and a timer past 2^31 ms fires at once).
  if (ms > MAX_MS[name]) throw new UsageError(`--${name} must be at most ${MAX_MS[name] / 60_000}m (got '${raw}')`);
  return ms;
}

function positiveNumber(name: string, raw: string | boolean | string[] | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(value) || value <= 0 || value > max)
    throw new UsageError(`--${name} must be a number greater than 0, at most ${max} (got '${raw}')`);
  return value;
}

export async function load(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(
    'load',
    argv,
    {
      engine: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      timeout: { type: 'string' },
      budget: { type: 'string' },
      json: { type: 'boolean' },
      'no-monitor': { type: 'boolean' },
      'k6-script': { type: 'string' },
      'k6-operator': { type: 'string' },
    },
    false,
    true,
  );
  if (options.help) {
    console.log(LOAD_HELP);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      `give one URL to load, e.g. \`dbproof load http://127.0.0.1:3000/health --rate 100\` (got ${positionals.length})`,
    );
  const url = URL.canParse(positionals[0]!) ? new URL(positionals[0]!) : undefined;
  if (url?.protocol !== 'http:')
    throw new UsageError(
      `dbproof load needs an http:// URL such as http://127.0.0.1:3000/path (got '${redact(positionals[0]!)}')`,
    );
  const k6 = options.engine === 'k6' || options['k6-script'] !== undefined;
  if (options.rate && options.connections && k6)
    throw new UsageError('with k6, give --rate (open model) or --connections (closed model), not both');
  const rate = positiveNumber('rate', options.rate, 100_000);
  // A whole number: 0.4 connections used to round to 0, which autocannon refused only once started.
  const chosenConnections = integerOption('connections', options.connections, 1, 10_000);
  const connections = rate ? chosenConnections : (chosenConnections ?? 10);
  const durationMs = durationOption('duration', options.duration, 10_000);
  if (durationMs < 100) throw new UsageError('--duration must be at least 100ms');
  if (rate && Math.floor((durationMs / 1000) * rate) < 1)
    throw new UsageError(
      `--rate ${rate} for ${options.duration ?? '10s'} sends no request: raise --rate or --duration`,
    );
  const warmupMs = durationOption('warmup', options.warmup, 0);
  const timeoutMs = durationOption('timeout', options.timeout, 10_000);
  if (timeoutMs < 1) throw new UsageError(`--timeout must be more than 0 (got '${options.timeout}')`);
  const budgets = options.budget ? parseBudgets(String(options.budget), `${url.pathname}${url.search}`) : [];

  const engine = String(options.engine ?? 'dbproof');
  if (engine !== 'dbproof' && engine !== 'k6') throw new UsageError(`--engine must be dbproof or k6 (got '${engine}')`);
  if (engine === 'k6' && options['k6-script'])
    throw new UsageError('--engine k6 runs the load; --k6-script only writes the script: give one of the two');
  if (engine === 'k6' && !k6OnPath()) throw new UsageError(K6_MISSING);
  if (options['k6-operator'] !== undefined && !options['k6-script'])
    throw new UsageError('--k6-operator N goes with --k6-script FILE (the TestRun runs that script)');
  if (options['k6-script']) {
    const parallelism =
      options['k6-operator'] === undefined ? undefined : integerOption('k6-operator', options['k6-operator'], 1, 1000);
    return writeK6(
      String(options['k6-script']),
      { url: url.toString(), rate, connections, durationMs, budgets },
      parallelism,
    );
  }
  if (!options.json)
    console.error(
      `dbproof: loading ${redact(url.toString())} for ${durationMs / 1000} s (${rate ? `open model, ${rate}/s${connections ? ` on ${connections} connections` : ''}` : `closed model, ${connections} connections`}${engine === 'k6' ? ', k6' : ''})`,
    );
  const reporter = options.json || engine === 'k6' ? undefined : progressReporter({ label: 'load', durationMs });
  // The machine is watched while the load runs (issue 13): a busy machine's delays are
  // counted in the latencies, so the result says when it was busy rather than blaming the server.
  const monitor = options['no-monitor'] ? undefined : await startNoiseMonitor();
  let probe: NoiseSummary | undefined;
  let report: Awaited<ReturnType<typeof runEngine>>;
  try {
    report = await (engine === 'k6'
      ? runK6({ url: url.toString(), rate, connections, durationMs, warmupMs, budgets })
      : runEngine({ url: url.toString(), rate, connections, durationMs, warmupMs, timeoutMs }, reporter?.onProgress));
  } finally {
    reporter?.done();
    // The probe ends with the load, whether the load ended well or not.
    probe = monitor ? (await monitor.stop()).summary : undefined;
  }
  // The probe's window, or the engine's own lateness: either says the load was not measured on time.
  const machine = probe && judgeMachine(probe, report.buckets);
  const summary = summarise(report, { rate, connections });
  // Budgets judged on nothing would pass (0 ms, 0 errors): the load could not measure what they are about.
  if (summary.requests === 0)
    throw new InfrastructureError(
      `the load measured no request in ${durationMs / 1000} s: nothing to judge the budgets on; check that ${redact(url.toString())} answers within --timeout (${timeoutMs / 1000} s), or raise --duration`,
    );
  // With no budget, nothing is judged: a load on which every request failed must not pass for that.
  if (budgets.length === 0 && summary.errors === summary.requests)
    throw new InfrastructureError(
      `every one of the ${summary.requests} requests failed: nothing answered at ${redact(url.toString())}; check that it is up and answers 2xx (or give --budget errors=… to judge the failures)`,
    );
  if (budgets.length === 0)
    console.error('dbproof: no --budget given: the load is reported, not judged (e.g. --budget p99=200ms,errors=0.1%)');
  // A broken budget that depends on time, on a saturated machine, says nothing about the server.
  const verdicts = judgeLoad(budgets, summary).map((v) =>
    !v.pass && machine?.saturated && dependsOnTime(v.budget) ? inconclusive(v, machine.evidence) : v,
  );
  const pass = verdicts.every((v) => v.pass);
  const undecided = !pass && verdicts.every((v) => v.pass || v.inconclusive);
  const noise = machine ? { noise: { saturated: machine.saturated, evidence: machine.evidence } } : {};
  if (options.json) printJson({ ...summary, verdicts, pass, ...(undecided ? { inconclusive: true } : {}), ...noise });
  else {
    const l = summary.latencyMs;
    console.log(
      `${summary.requests} requests, ${summary.errors} errors (${(summary.errorRate * 100).toFixed(2)} %), ${describeThroughput(summary)}`,
    );
    console.log(
      `latency  p50 ${l.p50} ms · p90 ${l.p90} ms · p95 ${l.p95} ms · p99 ${l.p99} ms · p99.9 ${l['p99.9']} ms · max ${l.max} ms`,
    );
    if (machine) console.log(`machine  ${machine.evidence}`);
    for (const verdict of verdicts) console.log(formatVerdict(verdict));
  }
  if (machine?.saturated)
    console.error(
      `dbproof: the machine was saturated during the load (${machine.evidence}): the latencies include its own delays, not only the server's; run again on a quieter machine`,
    );
  if (undecided) return 2;
  return pass ? 0 : 1;
}
