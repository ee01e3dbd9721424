/**
 * Budgets and verdicts: the promise a team wrote ("recovers in under 2 s") as a
 * number with a direction, and what was measured against it. Every suite and every
 * load scenario produces its verdicts with `judge`, so they read the same everywhere.
 * The schemas are the one definition: the types are derived from them, and the results
 * files (harness/results/schema.ts) validate verdicts with them.
 */
import { z } from 'zod';

export const budgetSchema = z.object({
  /** What is measured, e.g. `timeToRecoverMs`, `errorsDuringFault`, `hitRate`. */
  metric: z.string(),
  op: z.enum(['<', '<=', '>', '>=']),
  limit: z.number(),
  unit: z.enum(['ms', 'count', 'ratio', 'bytes']),
  /** What it applies to, e.g. `GET /inspections/{id}` or `replica1`. */
  scope: z.string().optional(),
});

export const verdictSchema = z.object({
  /** The sentence a person would write: "reads fail over to a healthy replica in under 2 s". */
  claim: z.string(),
  budget: budgetSchema,
  /** null when the thing never happened (a load that never recovered has no recovery time). */
  measured: z.number().nullable(),
  /** How far inside the budget (positive) or outside it (negative); null when nothing was measured. */
  margin: z.number().nullable(),
  pass: z.boolean(),
  /** Why, in a line: the last error the load saw, the ids of lost writes. */
  evidence: z.string().optional(),
  /**
   * Neither a pass nor a fail: a budget that depends on time broke in every attempt while
   * the machine was saturated (issue 13), so the measurement says nothing about the app.
   * `pass` is false; `evidence` says what the machine did.
   */
  inconclusive: z.boolean().optional(),
});

export type Budget = z.infer<typeof budgetSchema>;
export type BudgetOp = Budget['op'];
export type BudgetUnit = Budget['unit'];
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * Budgets that count things independent of time: a busy machine cannot move them, so
 * noise never excuses them (a lost write is lost however slow the machine was). Every
 * other budget is judged with the machine's noise in view: latencies and times (unit
 * `ms`), and the counts and rates that time-outs and a slow generator drive (errors during
 * a fault, throughput, hit rate after a restart, a regression's slow-down).
 */
export const CONTENT_METRICS: ReadonlySet<string> = new Set([
  // How the statements' plans ran (the query-plans suite): a busy machine does not change a plan.
  'readsNotByIndex',
  'seqScannedTableRows',
  'sortsSpilledToDisk',
  'nestedLoopOuterRows',
  // The growth of the buffers a statement touches with the data's size: its plan's work, not its speed.
  'scalingSlope',
  // The rows a statement returns with an index against without it: the index's answer, not its speed.
  'recallAtK',
  'lostWrites',
  'staleReads',
  'readYourWritesViolations',
  'statementsPerItem',
  'leakedConnections',
  'failuresBeforeOpen',
  'hitRate',
  'backupFailures',
  'restoreFailures',
  'pitrMismatches',
  // What became of a batch's items, and the statements it ran (the batch-fallback suite).
  'lostItems',
  'duplicatedItems',
  'badReportedStored',
  'goodReportedFailed',
  'partialFailures',
  'happyStatementsPerItem',
  'fallbackStatementsPerItem',
  // What a migration did (the migration-rehearsal suite): read in its transaction or from the tables' files.
  'rewritesUnderLock',
  'lockWithoutTimeout',
  'failedStatements',
  'invalidIndexes',
  'commandUnseen',
  // Which answers lack a header (the headers suite): a busy machine does not remove a header.
  'hstsBreaches',
  'cspBreaches',
  'nosniffBreaches',
  'framingBreaches',
  'referrerBreaches',
  'leaksBreaches',
  'cookiesBreaches',
  // What changed in a load's top statements since the baseline (plans, buffers, which ones): work, not time.
  'topStatementChanges',
]);

/** Whether a busy machine can move this budget's measurement (see CONTENT_METRICS). */
export function dependsOnTime(budget: Budget): boolean {
  // A metric may name what it counts after a space: `readsNotByIndex orders`.
  return !CONTENT_METRICS.has(budget.metric.split(' ')[0]!);
}

/** A failed verdict on a time-dependent budget, measured while the machine was saturated: neither pass nor fail. */
export function inconclusive(verdict: Verdict, noiseEvidence: string): Verdict {
  const evidence = `the machine was saturated: ${noiseEvidence}${verdict.evidence ? `; ${verdict.evidence}` : ''}`;
  return { ...verdict, pass: false, inconclusive: true, evidence };
}

function holds(measured: number, op: BudgetOp, limit: number): boolean {
  switch (op) {
    case '<':
      return measured < limit;
    case '<=':
      return measured <= limit;
    case '>':
      return measured > limit;
    case '>=':
      return measured >= limit;
  }
}

/** Compares a measurement with its budget. Nothing measured (null) never passes. */
export function judge(claim: string, budget: Budget, measured: number | null, evidence?: string): Verdict {
  const margin =
    measured === null ? null : budget.op.startsWith('<') ? budget.limit - measured : measured - budget.limit;
  return {
    claim,
    budget,
    measured,
    margin,
    pass: measured !== null && holds(measured, budget.op, budget.limit),
    ...(evidence ? { evidence } : {}),
  };
}

/** A shorthand for the commonest budget: `metric <= limit`. */
export const atMost = (metric: string, limit: number, unit: BudgetUnit, scope?: string): Budget => ({
  metric,
  op: '<=',
  limit,
  unit,
  ...(scope ? { scope } : {}),
});
export const atLeast = (metric: string, limit: number, unit: BudgetUnit, scope?: string): Budget => ({
  metric,
  op: '>=',
  limit,
  unit,
  ...(scope ? { scope } : {}),
});

export function formatValue(value: number | null, unit: BudgetUnit): string {
  if (value === null) return 'never';
  switch (unit) {
    case 'ms':
      return `${Math.round(value * 10) / 10} ms`;
    case 'ratio':
      return `${Math.round(value * 1000) / 10} %`;
    case 'bytes':
      return `${Math.round(value)} B`;
    case 'count':
      return String(Math.round(value * 100) / 100);
  }
}

/** One line per verdict: `PASS  claim — metric 120 ms <= 2000 ms (margin 1880 ms)`. */
export function formatVerdict(verdict: Verdict): string {
  const { budget } = verdict;
  const measured = formatValue(verdict.measured, budget.unit);
  const margin =
    verdict.margin === null
      ? 'no margin: nothing was measured'
      : `margin ${verdict.margin >= 0 ? '' : '-'}${formatValue(Math.abs(verdict.margin), budget.unit)}`;
  const scope = budget.scope ? ` [${budget.scope}]` : '';
  const line = `${verdictWord(verdict)}  ${verdict.claim} — ${budget.metric}${scope} ${measured} ${budget.op} ${formatValue(budget.limit, budget.unit)} (${margin})`;
  return verdict.evidence && !verdict.pass ? `${line}\n      ${verdict.evidence}` : line;
}

/** A group of verdicts (a suite's, a scenario's): FAIL when a budget truly broke, INCONCLUSIVE when only the machine did. */
export function verdictsWord(verdicts: Pick<Verdict, 'pass' | 'inconclusive'>[]): 'PASS' | 'FAIL' | 'INCONCLUSIVE' {
  if (verdicts.some((v) => !v.pass && !v.inconclusive)) return 'FAIL';
  return verdicts.some((v) => !v.pass) ? 'INCONCLUSIVE' : 'PASS';
}

/** PASS, FAIL or INCONCLUSIVE: the word every output uses for a verdict. */
export function verdictWord(verdict: Pick<Verdict, 'pass' | 'inconclusive'>): 'PASS' | 'FAIL' | 'INCONCLUSIVE' {
  if (verdict.pass) return 'PASS';
  return verdict.inconclusive ? 'INCONCLUSIVE' : 'FAIL';
}
