import path from 'node:path';
import { parseArgs } from '../args.ts';
import { CONFIG_OPTIONS, configFileOption } from '../config-option.ts';

export const BASELINE_HELP = `dbproof baseline [--from RUN] [--config FILE | --demo]

Keeps a passing gate run as the baseline the next gates compare their load scenarios with:
copies RUN's summary.json (default results/latest) to results/baseline.json (results.baseline
in the config). Commit it. A failed or incomplete run is refused. The config is --config FILE,
else ./dbproof.config.ts; --demo keeps a run of \`dbproof gate --demo\`.`;

export async function baseline(argv: string[]): Promise<number> {
  const { options } = parseArgs('baseline', argv, { from: { type: 'string' }, ...CONFIG_OPTIONS });
  if (options.help) {
    console.log(BASELINE_HELP);
    return 0;
  }
  const config = configFileOption(options);
  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const { keepBaseline } = await import('../../run/index.ts');
  const { run, file } = await keepBaseline({
    config,
    from: options.from as string | undefined,
  });
  console.log(
    `baseline: run ${run.runId} (${run.loads.length} load scenario(s)) → ${path.relative(process.cwd(), file) || file}`,
  );
  return 0;
}
