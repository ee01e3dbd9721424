import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadConfig } from '../../config/index.ts';
import { UsageError } from '../../errors.ts';
import { baselineFileOf, resultsDirOf } from '../../config/paths.ts';
import { writeFileAtomic } from '../../results/write.ts';
import { readRunResult } from '../../results/writers/index.ts';
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
  const { config, file: configFile } = await loadConfig(options.config as string | undefined);
  const configDir = path.dirname(configFile);
  // --from is the user's, relative to where they are; the default is the config's results folder.
  const from = path.resolve((options.from as string | undefined) ?? path.join(resultsDirOf(config, configDir), 'latest'));
  const file = from.endsWith('.json') ? from : path.join(from, 'summary.json');
  if (!existsSync(file)) throw new UsageError(`no gate run at ${file}: run \`dbproof gate\` first, or give --from <results/run-id>`);
  const run = await readRunResult(file);
  if (run.incomplete) throw new UsageError(`run ${run.runId} is incomplete: a baseline comes from a finished, passing run`);
  if (!run.pass) throw new UsageError(`run ${run.runId} broke ${run.verdicts.filter((v) => !v.pass).length} budget(s): a baseline comes from a passing run`);
  const target = baselineFileOf(config, configDir);
  await writeFileAtomic(target, `${JSON.stringify(run, null, 2)}\n`);
  console.log(`baseline: run ${run.runId} (${run.loads.length} load scenario(s)) → ${path.relative(process.cwd(), target) || target}`);
  return 0;
}
