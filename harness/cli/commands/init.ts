import path from 'node:path';
import { UsageError } from '../../errors.ts';
import { parseArgs } from '../args.ts';
import { CI_SYSTEMS, type CiSystem, initProject } from '../init/index.ts';

export const INIT_HELP = `dbproof init [--dir DIR] [--ci github|gitlab|none]

Writes what a project needs to gate on its database budgets, in DIR (default: here):
  dbproof.config.ts                the topology, the data set, your app (its start command guessed
                                   from package.json's scripts.start), the n-plus-one suite, the
                                   example suite and a load scenario with budgets, all commented
  dbproof/suites/list-endpoint.ts  a suite of your own: the list endpoint keeps its p99 and never
                                   fails under a steady load (copy it for your next claim)
  .github/workflows/dbproof.yml    the CI job: Postgres and Redis binaries, \`npx dbproof gate\`, the
                                   summary on the run's page, the results kept as an artefact
                                   (--ci gitlab: .gitlab-ci.yml instead; --ci none: no CI file)
Where package.json does not say "type": "module", the two TypeScript files are .mts (ES
modules whatever package.json says). Never over a file: when one of them exists, nothing
is written (exit 2).`;

export async function init(argv: string[]): Promise<number> {
  const { options } = parseArgs('init', argv, { dir: { type: 'string' }, ci: { type: 'string' } });
  if (options.help) {
    console.log(INIT_HELP);
    return 0;
  }
  const ci = (options.ci ?? 'github') as CiSystem;
  if (!CI_SYSTEMS.includes(ci)) throw new UsageError(`--ci must be one of ${CI_SYSTEMS.join(', ')} (got '${ci}')`);
  const dir = (options.dir as string | undefined) ?? '.';
  const { files, facts } = initProject({ dir, ci });
  const where = path.relative(process.cwd(), path.resolve(dir));
  console.log(`wrote ${files.map((file) => (where ? path.join(where, file) : file)).join(', ')}`);
  console.log(
    facts.hasStartScript
      ? "app.command: npm start (package.json's scripts.start)"
      : 'app.command: a placeholder (package.json has no scripts.start): replace it with the command that starts your app',
  );
  const steps = [
    ...(where ? [`cd ${where}`] : []),
    ...(facts.hasDbproof ? [] : ['npm install -D dbproof']),
    `replace GET /items in ${files[0]} with your endpoints`,
    'npx dbproof gate',
  ];
  console.log(`next: ${steps.join(', then ')}`);
  return 0;
}
