import path from 'node:path';
import { redact, redactDeep } from '../../redact.ts';
import type { LoadResult } from '../../results/run-result.ts';
import type { ProviderName } from '../../topology/types.ts';
import { parseShard } from '../../run/shard.ts';
import { parseArgs } from '../args.ts';
import { CONFIG_OPTIONS, configFileOption } from '../config-option.ts';
import { printJson } from '../output.ts';

export const GATE_HELP = `dbproof gate [--config FILE | --demo] [--provider native|containers|compose] [--shard I/N] [--json]

The CI gate: starts the topology, loads the data set, starts the app (app.command, polled
at app.ready), runs every suite and every load scenario of the config, judges each budget
and writes the results. The config is --config FILE, else ./dbproof.config.ts (\`dbproof init\`
writes one); --demo runs the reference app's demo (example/dbproof.config.ts) instead.

Results in results/<run-id>/ (results.dir; results/latest points at the newest):
  summary.json   every suite, load and verdict (schema version 1; "incomplete": true until the run ends)
  junit.xml      each budget a test case, for CI systems
  summary.md     for a pull-request comment or the CI step summary: the budgets, the N+1
                 findings (endpoint, statement, runs per size), the loads
  report.html    one self-contained page: budgets, latency histograms and percentile curves,
                 per-100 ms timelines with fault events marked, N+1 findings
Each load scenario also in results/baseline.json (\`dbproof baseline\`) is compared with it: a
regression is a slow-down beyond results.regressionTolerance (10 %) and results.regressionMinMs
(5 ms) that a bootstrap 95 %
interval of the difference of per-100 ms medians confirms.
Each load's progress goes to stderr: live on a terminal, a line every 5 s in CI.
  --json         print summary.json's content on stdout (and no progress)
  --shard I/N    run shard I of N (e.g. 2/3, a CI matrix's job): a deterministic share of the
                 suites and scenarios, each in exactly one shard; summary.json records which
                 shard of which config, and \`dbproof merge\` joins the shards' results into one
                 run. A shard the share gives nothing (more shards than suites and scenarios)
                 passes with a note.
The machine is watched meanwhile (a probe's wake-up lateness, CPU pressure, steal, the load
engines' own lateness): a budget that depends on time and breaks while the machine was
saturated is run again (noise.retries,
default 2 more attempts); if no attempt was quiet it is INCONCLUSIVE, neither pass nor fail.
Exit codes: 0 every budget holds · 1 one is broken · 2 a configuration or infrastructure error,
or INCONCLUSIVE (the machine could not measure; one line says why)`;

export async function gate(argv: string[]): Promise<number> {
  const { options } = parseArgs('gate', argv, {
    ...CONFIG_OPTIONS,
    json: { type: 'boolean' },
    provider: { type: 'string' },
    shard: { type: 'string' },
  });
  if (options.help) {
    console.log(GATE_HELP);
    return 0;
  }
  const shard = options.shard === undefined ? undefined : parseShard(String(options.shard));
  const config = configFileOption(options);
  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const [{ planRun, runPlan }, { formatVerdict, verdictsWord }, { inconclusiveLine, runWord }, { describeThroughput }] =
    await Promise.all([
      import('../../run/index.ts'),
      import('../../budgets/index.ts'),
      import('../../results/run-result.ts'),
      import('../../../load/summary.ts'),
    ]);
  /** A load's figures, each request of its mix, and its verdicts. */
  const loadLines = (load: LoadResult): string[] => {
    const l = load.latencyMs;
    return [
      `${load.requests} requests, ${(load.errorRate * 100).toFixed(2)} % errors, ${describeThroughput(load)}; p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms`,
      ...load.endpoints.map(
        (e) =>
          `  ${e.request}: ${e.requests} requests, ${e.errors} errors; p50 ${e.latencyMs.p50} ms, p99 ${e.latencyMs.p99} ms`,
      ),
      ...load.verdicts.map(formatVerdict),
    ];
  };
  const json = Boolean(options.json);
  const plan = await planRun({
    config,
    provider: options.provider as ProviderName | undefined,
    shard,
  });
  const share = [...plan.suites.map((s) => `suite ${s.suite.name}`), ...plan.scenarios.map((name) => `load ${name}`)];
  // An empty share is said by the plan's notice.
  if (plan.shard && share.length && !json)
    console.error(`dbproof: shard ${plan.shard.index}/${plan.shard.total}: ${share.join(', ')}`);
  const show = (source: string, word: string, lines: string[]) => {
    if (!json) console.log(redact([`${word} ${source}`, ...lines.map((l) => `  ${l}`)].join('\n')));
  };
  const { run, result } = await runPlan(plan, {
    say: (line) => {
      if (!json) console.error(`dbproof: ${redact(line)}`);
    },
    // Said even with --json (on stderr): a gate that silently skips its regression checks
    // looks like one that passed them.
    warn: (line) => console.error(`dbproof: ${line}`),
    progress: !json,
    onSuite: (suite) => show(`suite ${suite.suite}`, verdictsWord(suite.verdicts), suite.verdicts.map(formatVerdict)),
    onLoad: (load) => show(`load ${load.name}`, verdictsWord(load.verdicts), loadLines(load)),
    onRetry: (source, why) => console.error(`dbproof: ${redact(`${source}: ${why}`)}`),
  });
  if (json) printJson(redactDeep(result));
  else {
    const failed = result.verdicts.filter((v) => !v.pass).length;
    console.log(
      `${runWord(result)}: ${result.verdicts.length - failed} of ${result.verdicts.length} budgets hold; results in ${path.relative(process.cwd(), run.dir) || run.dir} (summary.json, junit.xml, summary.md, report.html)`,
    );
  }
  if (result.inconclusive) {
    // The line quotes a verdict's evidence (an error body may carry a URL): redacted like every other line.
    console.error(`dbproof: ${redact(inconclusiveLine(result))}`);
    return 2;
  }
  return result.pass ? 0 : 1;
}
