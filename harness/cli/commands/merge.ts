import path from 'node:path';
import { UsageError } from '../../errors.ts';
import { redact, redactDeep } from '../../redact.ts';
import { parseArgs } from '../args.ts';
import { printJson } from '../output.ts';

export const MERGE_HELP = `dbproof merge <dir…> [--out DIR] [--json]

Joins the results of a gate run in shards (\`dbproof gate --shard 1/3\`, 2/3, 3/3: a CI
matrix's jobs) into one run: summary.json, junit.xml, summary.md and report.html, as one
unsharded gate writes them, with every shard's suites/ files. Every budget is judged as the
gate judges it: PASS when every budget held in every shard.
  <dir…>       each shard's results folder: results/<run-id>, or a results folder (its latest run)
  --out DIR    where the merged run goes (made if missing; default: a new run folder under
               ./results, results/latest pointing at it)
  --json       print the merged summary.json's content on stdout
Refused with one line, nothing written: a shard missing (their totals say how many there
are: 1/3 and 3/3 given, 2/3 missing), given twice, interrupted ("incomplete": true), not a
shard, run with another total, or of another config (its suites or scenarios differ).
Exit codes: 0 every budget held in every shard · 1 one is broken · 2 refused, or INCONCLUSIVE
(every broken budget depends on time and broke while the machine was saturated; one line says why)`;

export async function merge(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(
    'merge',
    argv,
    { out: { type: 'string' }, json: { type: 'boolean' } },
    false,
    true,
  );
  if (options.help) {
    console.log(MERGE_HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError(
      "give each shard's results folder, e.g. `dbproof merge shard-1/results shard-2/results shard-3/results`",
    );
  const out = options.out === undefined ? undefined : path.resolve(String(options.out));
  const given = positionals.map((dir) => path.resolve(dir));
  if (out && given.includes(out))
    throw new UsageError(`--out ${options.out} is one of the shards' folders; give the merged run a folder of its own`);
  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const [
    { mergeShards, readShardResults, writeMergedRun },
    { createRunDirectory, newRunId },
    { inconclusiveLine, runWord },
    { formatVerdict, verdictsWord },
  ] = await Promise.all([
    import('../../results/merge.ts'),
    import('../../results/write.ts'),
    import('../../results/run-result.ts'),
    import('../../budgets/index.ts'),
  ]);
  const shards = [];
  for (const dir of positionals) shards.push(await readShardResults(dir));
  const runId = newRunId();
  // Every refusal comes here, before a folder is made or a file written.
  const merged = mergeShards(shards, runId);
  const dir = out ?? (await createRunDirectory(path.resolve('results'), runId)).dir;
  await writeMergedRun(dir, merged, shards);
  const json = Boolean(options.json);
  if (json) printJson(redactDeep(merged));
  else {
    for (const source of new Set(merged.verdicts.map((v) => v.source))) {
      const verdicts = merged.verdicts.filter((v) => v.source === source);
      console.log(
        redact([`${verdictsWord(verdicts)} ${source}`, ...verdicts.map((v) => `  ${formatVerdict(v)}`)].join('\n')),
      );
    }
    const failed = merged.verdicts.filter((v) => !v.pass).length;
    console.log(
      `${runWord(merged)}: ${merged.verdicts.length - failed} of ${merged.verdicts.length} budgets hold in ${shards.length} shards; results in ${path.relative(process.cwd(), dir) || dir} (summary.json, junit.xml, summary.md, report.html)`,
    );
  }
  if (merged.inconclusive) {
    console.error(`dbproof: ${redact(inconclusiveLine(merged))}`);
    return 2;
  }
  return merged.pass ? 0 : 1;
}
