import path from 'node:path';
import { SUITE_NAMES } from '../../../suites/names.ts';
import { redact, redactDeep } from '../../redact.ts';
import type { RunOptions } from '../../run/plan.ts';
import type { ProviderName } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { CONFIG_OPTIONS, configFileOption } from '../config-option.ts';
import { printJson } from '../output.ts';

export const TEST_HELP = `dbproof test [suite …] [--config FILE | --demo] [--provider native|containers|compose] [--json]

Starts the topology, loads the data set, starts the app with the topology's URLs, runs
the suites against it and judges each budget. With no suite named, runs the suites of the
config (or every suite when the config names none). The config is --config FILE, else
./dbproof.config.ts (\`dbproof init\` writes one); --demo runs the reference app's demo
(example/dbproof.config.ts) instead.

Suites: ${SUITE_NAMES.join(', ')}, and the team's own that the config names
(suites: { 'my-suite': { use: mySuite } }; README: Writing a suite of your own)

Each suite's result (verdicts, measurements, fault events, per-bucket timeline) is
written to results/<run-id>/suites/<suite>--<app>.json (results.dir in the config), and the
run's summary.json, junit.xml, summary.md and report.html beside it, as \`dbproof gate\` writes them.
  --json   print one JSON object: { runId, resultsDir, pass, suites: [...] }
Exit codes: 0 every budget holds · 1 a budget is broken · 2 bad input or infrastructure`;

export async function test(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(
    'test',
    argv,
    { ...CONFIG_OPTIONS, json: { type: 'boolean' }, provider: { type: 'string' } },
    false,
    true,
  );
  if (options.help) {
    console.log(TEST_HELP);
    return 0;
  }
  return runSuitesAndPrint(
    {
      config: configFileOption(options),
      provider: options.provider as ProviderName | undefined,
      suites: positionals.length > 0 ? positionals : undefined,
      scenarios: false,
    },
    Boolean(options.json),
  );
}

/**
 * Plans and runs suites (no load scenarios) and prints each suite's verdicts as it ends,
 * then one line: `dbproof test` and `dbproof migrate-check` are this with their own options.
 */
export async function runSuitesAndPrint(runOptions: RunOptions, json: boolean): Promise<number> {
  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const [{ planRun, runPlan }, { formatVerdict, verdictsWord }, { inconclusiveLine }] = await Promise.all([
    import('../../run/index.ts'),
    import('../../budgets/index.ts'),
    import('../../results/run-result.ts'),
  ]);
  // Everything is validated before anything starts: a typo costs no topology.
  const plan = await planRun(runOptions);
  const { run, result } = await runPlan(plan, {
    say: (line) => {
      if (!json) console.error(`dbproof: ${redact(line)}`);
    },
    onSuite: (suite) => {
      if (!json)
        console.log(
          redact(
            [
              `${verdictsWord(suite.verdicts)} ${suite.suite}`,
              ...suite.verdicts.map((v) => `  ${formatVerdict(v)}`),
            ].join('\n'),
          ),
        );
    },
  });
  const { suites } = result;
  // Every suite kept its promises: a suite that judged nothing kept none.
  const pass = suites.every((r) => r.pass);
  const inconclusive = !pass && suites.every((r) => verdictsWord(r.verdicts) !== 'FAIL');
  if (json) printJson(redactDeep({ runId: run.runId, resultsDir: run.dir, pass, suites }));
  else
    console.log(
      `${pass ? 'PASS' : inconclusive ? 'INCONCLUSIVE' : 'FAIL'}: ${suites.filter((r) => r.pass).length} of ${suites.length} suite(s) kept every promise; results in ${path.relative(process.cwd(), run.dir) || run.dir}`,
    );
  if (inconclusive) {
    console.error(`dbproof: ${redact(inconclusiveLine(result))}`);
    return 2;
  }
  return pass ? 0 : 1;
}
