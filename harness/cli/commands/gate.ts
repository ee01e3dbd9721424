import path from 'node:path';
import { existsSync } from 'node:fs';
import { formatVerdict } from '../../budgets/index.ts';
import { loadConfig } from '../../config/index.ts';
import { UsageError } from '../../errors.ts';
import { redact, redactDeep } from '../../redact.ts';
import type { RunDirectory } from '../../results/index.ts';
import { RunRecorder } from '../../results/run-recorder.ts';
import { checkResultsFolder } from '../../results/folder.ts';
import { baselineFileOf, resultsDirOf } from '../../config/paths.ts';
import { readRunResult } from '../../results/writers/index.ts';
import { regressionVerdict } from '../../../load/regression.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';
import { planChecks, runChecks } from './checks.ts';

export const GATE_HELP = `dbproof gate [--config FILE] [--provider native|containers|compose] [--json]

The CI gate: starts the topology, loads the data set, starts the app (app.command, polled
at app.ready), runs every suite and every load scenario of the config, judges each budget
and writes the results. With no config: the reference app's demo (example/dbproof.config.ts).

Results in results/<run-id>/ (results.dir; results/latest points at the newest):
  summary.json   every suite, load and verdict (schema version 1; "incomplete": true until the run ends)
  junit.xml      each budget a test case, for CI systems
  summary.md     a table for a pull-request comment or the CI step summary
  report.html    one self-contained page: budgets, latency histograms and percentile curves,
                 per-100 ms timelines with fault events marked, N+1 findings
Each load scenario also in results/baseline.json (\`dbproof baseline\`) is compared with it: a
regression is a slow-down beyond results.regressionTolerance (10 %) and results.regressionMinMs
(5 ms) that a bootstrap 95 %
interval of the difference of per-100 ms medians confirms.
Each load's progress goes to stderr: live on a terminal, a line every 5 s in CI.
  --json         print summary.json's content on stdout (and no progress)
Exit codes: 0 every budget holds · 1 one is broken · 2 a configuration or infrastructure error`;

export async function gate(argv: string[]): Promise<number> {
  const { options } = parseArgs('gate', argv, { config: { type: 'string' }, json: { type: 'boolean' }, provider: { type: 'string' } });
  if (options.help) {
    console.log(GATE_HELP);
    return 0;
  }
  const { config, file } = await loadConfig(options.config as string | undefined);
  const suiteNames = Object.keys(config.suites);
  if (suiteNames.length === 0 && Object.keys(config.scenarios).length === 0) throw new UsageError('the config has no suites and no scenarios: nothing to gate on (add suites: { … } or scenarios: { … })');
  const baselineFile = baselineFileOf(config, path.dirname(file));
  // A baseline that cannot be read is a configuration error, found before anything starts.
  const baseline = existsSync(baselineFile) ? await readRunResult(baselineFile, 'restore it from version control, or delete it and run `dbproof baseline` again') : undefined;
  const plan = await planChecks({ config: options.config as string | undefined, provider: options.provider as string | undefined, suites: suiteNames, scenarios: true });
  const say = (line: string) => {
    if (!options.json) console.error(`dbproof: ${redact(line)}`);
  };
  // A folder the run could not write is refused now, before the line below and before anything starts.
  await checkResultsFolder(resultsDirOf(config, plan.configDir));
  // Said even with --json (on stderr): a gate that silently skips its regression checks looks like one that passed them.
  const where = path.relative(process.cwd(), baselineFile) || baselineFile;
  const unmatched = plan.scenarios.filter((name) => !baseline?.loads.some((l) => l.name === name));
  if (!baseline && plan.scenarios.length > 0) console.error(`dbproof: no baseline at ${where}: the load scenarios are not checked for regressions (\`dbproof baseline\` keeps a passing run as one)`);
  else if (unmatched.length > 0) console.error(`dbproof: the baseline ${where} has no load ${unmatched.join(', ')}: not checked for regressions (\`dbproof baseline\` after a passing run that has it)`);

  const recorder = new RunRecorder({ provider: plan.provider, app: config.app.name });
  let run: RunDirectory | undefined;
  const show = (source: string, pass: boolean, lines: string[]) => {
    if (!options.json) console.log(redact([`${pass ? 'PASS' : 'FAIL'} ${source}`, ...lines.map((l) => `  ${l}`)].join('\n')));
  };

  await runChecks(plan, {
    say,
    progress: !options.json,
    onRun: async (created) => {
      run = created;
      await recorder.start(created);
    },
    onSuite: async (result) => {
      show(`suite ${result.suite}`, result.pass, result.verdicts.map(formatVerdict));
      await recorder.addSuite(result);
    },
    onLoad: async (result) => {
      const before = baseline?.loads.find((l) => l.name === result.name);
      if (before) result.verdicts.push(regressionVerdict(result, before, { tolerance: config.results.regressionTolerance, minDeltaMs: config.results.regressionMinMs }));
      const l = result.latencyMs;
      show(`load ${result.name}`, result.verdicts.every((v) => v.pass), [`${result.requests} requests, ${(result.errorRate * 100).toFixed(2)} % errors, ${result.rps.toFixed(1)}/s; p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms`, ...result.endpoints.map((e) => `  ${e.request}: ${e.requests} requests, ${e.errors} errors; p50 ${e.latencyMs.p50} ms, p99 ${e.latencyMs.p99} ms`), ...result.verdicts.map(formatVerdict)]);
      await recorder.addLoad(result);
    },
  });
  const final = await recorder.finish();
  if (options.json) printJson(redactDeep(final));
  else {
    const failed = final.verdicts.filter((v) => !v.pass).length;
    console.log(`${final.pass ? 'PASS' : 'FAIL'}: ${final.verdicts.length - failed} of ${final.verdicts.length} budgets hold; results in ${path.relative(process.cwd(), run!.dir) || run!.dir} (summary.json, junit.xml, summary.md, report.html)`);
  }
  return final.pass ? 0 : 1;
}
