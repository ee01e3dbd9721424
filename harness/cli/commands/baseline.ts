import path from 'node:path';
import { parseArgs } from '../args.ts';

export const BASELINE_HELP = `dbproof baseline [--from RUN] [--config FILE]

Keeps a passing gate run as the baseline the next gates compare their load scenarios with:
copies RUN's summary.json (default results/latest) to results/baseline.json (results.baseline
in the config). Commit it. A failed or incomplete run is refused.`;

export async function baseline(argv: string[]): Promise<number> {
  const { options } = parseArgs('baseline', argv, { from: { type: 'string' }, config: { type: 'string' } });
  if (options.help) {
    console.log(BASELINE_HELP);
    return 0;
  }
  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const { keepBaseline } = await import('../../run/index.ts');
  const { run, file } = await keepBaseline({
    config: options.config as string | undefined,
    from: options.from as string | undefined,
  });
  console.log(
    `baseline: run ${run.runId} (${run.loads.length} load scenario(s)) → ${path.relative(process.cwd(), file) || file}`,
  );
  return 0;
}
