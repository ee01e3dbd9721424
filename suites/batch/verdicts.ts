import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import type { FaultEvent } from '../../harness/faults/schedule.ts';
import type { FindingRecord } from '../../harness/results/schema.ts';
import type { BatchCost } from './cost.ts';
import type { FaultCases } from './faults.ts';
import type { BatchFallbackOptions, ReadCase } from './options.ts';
import { evidenceOf, type Tally } from './outcomes.ts';
import type { ReadFallback } from './read-fallback.ts';

/** What one endpoint's cases measured; the cost and the faults are absent when the app stopped answering before them. */
export interface Measured {
  tally: Tally;
  cost?: BatchCost;
  faults?: FaultCases;
  /** Why the cases ended early. */
  stopped?: string;
}

export interface EndpointResult {
  verdicts: Verdict[];
  measurements: Record<string, number | null>;
  findings: FindingRecord[];
  events: FaultEvent[];
  notes: string[];
}

const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;

const FIX =
  'insert the whole batch in one statement (a multi-row VALUES, or INSERT … SELECT FROM unnest($1::…[], …)) instead of one INSERT per item';

/** One endpoint's verdicts (scoped by its request), measurements (named `<metric> <request>`), findings and notes. */
export function endpointResult(request: string, measured: Measured, options: BatchFallbackOptions): EndpointResult {
  const { tally, cost, faults, stopped } = measured;
  const { budgets, costSizes } = options;
  const unmeasured = stopped ? `not measured: ${stopped}` : undefined;
  const counted = (metric: keyof typeof budgets, claim: string, lines: string[]) =>
    judge(claim, atMost(metric, budgets[metric], 'count', request), lines.length, evidenceOf(lines) ?? unmeasured);
  const latencyRatio = cost ? round(cost.fallbackMs / Math.max(cost.happyMs, 0.001)) : null;
  const verdicts = [
    counted(
      'lostItems',
      `every good item is stored, whatever bad items share its batch (${tally.batches} batches, ${tally.items} items)`,
      tally.lost,
    ),
    counted(
      'duplicatedItems',
      'no good item is stored twice (a batch sent again, a fallback retried)',
      tally.duplicated,
    ),
    counted('badReportedStored', 'every bad item is reported failed, at its own position', tally.badReportedStored),
    counted('goodReportedFailed', 'every good item is reported stored', tally.goodReportedFailed),
    judge(
      `a batch without bad items runs the same statements at every size (${costSizes.join(' and ')} items)`,
      atMost('happyStatementsPerItem', budgets.happyStatementsPerItem, 'count', request),
      cost ? round(cost.happyPerItem) : null,
      cost?.happy.findings
        .map(
          (f) =>
            `${f.exampleSql.replace(/\s+/g, ' ')} ran ${costSizes.map((s) => f.countsBySize[s]).join(' → ')} times at sizes ${costSizes.join(' → ')}`,
        )
        .join('; ') || unmeasured,
    ),
    judge(
      `a batch falling back runs at most ${budgets.fallbackStatementsPerItem} statements per item`,
      atMost('fallbackStatementsPerItem', budgets.fallbackStatementsPerItem, 'count', request),
      cost ? round(cost.fallbackPerItem) : null,
      cost
        ? `${cost.fallbackStatements} statements for a batch of ${costSizes[1]} with one bad item, ${cost.happyStatements} without`
        : unmeasured,
    ),
    judge(
      `a batch falling back takes at most ${budgets.fallbackLatencyRatio} times as long as a happy one`,
      atMost('fallbackLatencyRatio', budgets.fallbackLatencyRatio, 'count', request),
      latencyRatio,
      cost
        ? `the fastest batch of ${costSizes[1]}: ${round(cost.fallbackMs, 1)} ms falling back, ${round(cost.happyMs, 1)} ms happy`
        : unmeasured,
    ),
  ];
  if (options.faults.kill || options.faults.freeze)
    verdicts.push(
      counted(
        'partialFailures',
        'a batch a fault fails as a whole has stored none of its items (never silently partial)',
        tally.partial,
      ),
      judge(
        'each fault struck in the middle of a fallback',
        atMost('faultsMissed', budgets.faultsMissed, 'count', request),
        faults ? faults.missed.length : null,
        evidenceOf(faults?.missed ?? []) ?? unmeasured,
      ),
    );
  const measurements: Record<string, number | null> = {
    batches: tally.batches,
    items: tally.items,
    lostItems: tally.lost.length,
    duplicatedItems: tally.duplicated.length,
    badReportedStored: tally.badReportedStored.length,
    goodReportedFailed: tally.goodReportedFailed.length,
    badItemsStored: tally.badStored.length,
    partialFailures: tally.partial.length,
    happyStatementsPerItem: cost ? round(cost.happyPerItem) : null,
    fallbackStatementsPerItem: cost ? round(cost.fallbackPerItem) : null,
    happyStatements: cost?.happyStatements ?? null,
    fallbackStatements: cost?.fallbackStatements ?? null,
    fallbackStatementRatio: cost ? round(cost.fallbackStatements / Math.max(cost.happyStatements, 1)) : null,
    happyMs: cost ? round(cost.happyMs, 1) : null,
    fallbackMs: cost ? round(cost.fallbackMs, 1) : null,
    fallbackLatencyRatio: latencyRatio,
    faultsMissed: faults?.missed.length ?? null,
    faultedBatchesFailedWhole: faults?.failedWhole ?? null,
    faultRehearsalStatements: faults?.rehearsalStatements ?? null,
  };
  const notes = [
    ...(stopped ? [stopped] : []),
    ...(tally.badStored.length
      ? [
          `${request}: bad items stored (their fields did not make them bad, or the app repaired them): ${evidenceOf(tally.badStored)}`,
        ]
      : []),
  ];
  return {
    verdicts,
    measurements: Object.fromEntries(Object.entries(measurements).map(([k, v]) => [`${k} ${request}`, v])),
    findings: (cost?.happy.findings ?? []).map((f) => ({
      operation: cost!.happy.operation,
      exampleSql: f.exampleSql,
      countsBySize: Object.fromEntries(Object.entries(f.countsBySize).map(([k, v]) => [String(k), v])),
      slope: f.slope,
      hint: FIX,
    })),
    events: faults?.events ?? [],
    notes,
  };
}

/** A read's verdicts: it answers as unforced when its batched statement is cancelled, within its budget, and the cancel struck. */
export function readResult(read: ReadCase, measured: ReadFallback, options: BatchFallbackOptions): EndpointResult {
  const scope = read.request;
  return {
    verdicts: [
      judge(
        'a batched read whose batched statement is cancelled (as by a statement timeout) still answers as it does unforced',
        atMost('readFallbackFailures', options.budgets.readFallbackFailures, 'count', scope),
        measured.failures.length,
        evidenceOf(measured.failures),
      ),
      judge(
        `it answers within its budget of ${read.budgetMs} ms`,
        atMost('readFallbackMs', read.budgetMs, 'ms', scope),
        measured.slowestMs === null ? null : round(measured.slowestMs, 1),
        measured.slowestMs === null ? 'no forced read was answered' : `the slowest of ${read.times}`,
      ),
      judge(
        `each cancel struck the batched statement (it waited for the lock on ${read.lockTable})`,
        atMost('faultsMissed', options.budgets.faultsMissed, 'count', scope),
        measured.missed.length,
        evidenceOf(measured.missed),
      ),
    ],
    measurements: {
      [`readFallbackFailures ${scope}`]: measured.failures.length,
      [`readFallbackMs ${scope}`]: measured.slowestMs === null ? null : round(measured.slowestMs, 1),
      [`faultsMissed ${scope}`]: measured.missed.length,
    },
    findings: [],
    events: measured.events,
    notes: [],
  };
}
