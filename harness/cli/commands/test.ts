import path from 'node:path';
import { SUITE_NAMES } from '../../../suites/index.ts';
import { formatVerdict } from '../../budgets/index.ts';
import { loadConfig } from '../../config/index.ts';
import { redact, redactDeep } from '../../redact.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';
import { planChecks, runChecks } from './checks.ts';
import { RunRecorder } from '../../results/run-recorder.ts';

export const TEST_HELP = `dbproof test [suite …] [--config FILE] [--provider native|containers|compose] [--json]

Starts the topology, loads the data set, starts the app with the topology's URLs, runs
the suites against it and judges each budget. With no suite named, runs the suites of the
config (or every suite when the config names none). The config is --config, else
./dbproof.config.ts, else the reference app's demo (example/dbproof.config.ts).

Suites: ${SUITE_NAMES.join(', ')}

Each suite's result (verdicts, measurements, fault events, per-bucket timeline) is
written to results/<run-id>/suites/<suite>--<app>.json (results.dir in the config), and the
run's summary.json, junit.xml, summary.md and report.html beside it, as \`dbproof gate\` writes them.
  --json   print one JSON object: { runId, resultsDir, pass, suites: [...] }
Exit codes: 0 every budget holds · 1 a budget is broken · 2 bad input or infrastructure`;

export async function test(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs('test', argv, { config: { type: 'string' }, json: { type: 'boolean' }, provider: { type: 'string' } }, false, true);
  if (options.help) {
    console.log(TEST_HELP);
    return 0;
  }
  const { config } = await loadConfig(options.config as string | undefined);
  const names = positionals.length > 0 ? positionals : Object.keys(config.suites).length > 0 ? Object.keys(config.suites) : SUITE_NAMES;
  // Everything is validated before anything starts: a typo costs no topology.
  const plan = await planChecks({ config: options.config as string | undefined, provider: options.provider as string | undefined, suites: names, scenarios: false });
  const say = (line: string) => {
    if (!options.json) console.error(`dbproof: ${redact(line)}`);
  };
  const recorder = new RunRecorder({ provider: plan.provider, app: config.app.name });
  const { run, suites } = await runChecks(plan, {
    say,
    onRun: (created) => recorder.start(created),
    onSuite: async (result) => {
      if (!options.json) console.log(redact([`${result.pass ? 'PASS' : 'FAIL'} ${result.suite}`, ...result.verdicts.map((v) => `  ${formatVerdict(v)}`)].join('\n')));
      await recorder.addSuite(result);
    },
  });
  await recorder.finish();
  const pass = suites.every((r) => r.pass);
  if (options.json) printJson(redactDeep({ runId: run.runId, resultsDir: run.dir, pass, suites }));
  else console.log(`${pass ? 'PASS' : 'FAIL'}: ${suites.filter((r) => r.pass).length} of ${suites.length} suite(s) kept every promise; results in ${path.relative(process.cwd(), run.dir) || run.dir}`);
  return pass ? 0 : 1;
}
