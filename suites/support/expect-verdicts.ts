import { formatVerdict } from '../../harness/budgets/index.ts';
import type { SuiteResult } from '../../harness/results/index.ts';

/** Every verdict of a result as the CLI prints them: what a failing assertion shows. */
export const verdictLines = (result: SuiteResult): string =>
  [
    `${result.suite} on ${result.target}:`,
    ...result.verdicts.map(formatVerdict),
    `measurements: ${JSON.stringify(result.measurements)}`,
  ].join('\n');

/** The verdict whose budget measures `metric`. */
export function verdictOn(result: SuiteResult, metric: string) {
  const verdict = result.verdicts.find((v) => v.budget.metric === metric);
  if (!verdict) throw new Error(`${result.suite} has no verdict on ${metric}: ${verdictLines(result)}`);
  return verdict;
}
