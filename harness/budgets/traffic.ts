/**
 * Budgets on traffic, the one place they are read and judged: the strings people write on a
 * command line (`p99=200ms,errors=0.1%,rps=100`) and the verdicts on a load's figures.
 */
import { UsageError } from '../errors.ts';
import { type Budget, judge, type Verdict } from './index.ts';

/**
 * Budgets as people write them on a command line: `p99=200ms,errors=0.1%,rps=100`.
 * Latency metrics (p50, p90, p95, p99, p99.9, max, mean) and errors are ceilings; rps is a
 * throughput floor. They map one-to-one onto k6 thresholds (`p(99)<200`, `rate<0.001`).
 */
const LATENCY = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean'] as const;
const EXAMPLE = '--budget p99=200ms,errors=0.1%,rps=50';

function duration(metric: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(raw);
  if (!match)
    throw new UsageError(`--budget ${metric}=${raw}: a latency needs a unit, e.g. ${metric}=200ms or ${metric}=1.5s`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

export function parseBudgets(text: string, scope?: string): Budget[] {
  return text.split(',').map((part) => {
    const [metric, raw, extra] = part.trim().split('=');
    if (!metric || raw === undefined || raw === '' || extra !== undefined)
      throw new UsageError(`--budget '${part}' is not metric=value; e.g. ${EXAMPLE}`);
    if ((LATENCY as readonly string[]).includes(metric))
      return {
        metric: `${metric}Ms`,
        op: '<=',
        limit: duration(metric, raw),
        unit: 'ms',
        ...(scope ? { scope } : {}),
      } satisfies Budget;
    if (metric === 'errors') {
      const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(raw);
      if (!match) throw new UsageError(`--budget errors=${raw}: give a share (errors=0.1%) or a count (errors=0)`);
      return match[2]
        ? { metric: 'errorRate', op: '<=', limit: Number(match[1]) / 100, unit: 'ratio', ...(scope ? { scope } : {}) }
        : { metric: 'errors', op: '<=', limit: Number(match[1]), unit: 'count', ...(scope ? { scope } : {}) };
    }
    if (metric === 'rps') {
      if (!/^\d+(\.\d+)?$/.test(raw))
        throw new UsageError(`--budget rps=${raw}: a throughput floor in requests per second, e.g. rps=100`);
      return {
        metric: 'rps',
        op: '>=',
        limit: Number(raw),
        unit: 'count',
        ...(scope ? { scope } : {}),
      } satisfies Budget;
    }
    throw new UsageError(
      `--budget: unknown metric '${metric}'; the metrics are ${[...LATENCY, 'errors', 'rps'].join(', ')} (e.g. ${EXAMPLE})`,
    );
  });
}

/** The latency figures a load reports, in milliseconds. */
export interface LatencyFigures {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  'p99.9': number;
  max: number;
  mean: number;
}

/**
 * What budgets are judged on: a scenario's figures, or one endpoint's of a mix. Written here
 * rather than taken from load/summary.ts so that budgets stay below the engines that
 * measure; a LoadSummary is one of these.
 */
export interface LoadFigures {
  requests: number;
  errors: number;
  errorRate: number;
  rps: number;
  latencyMs: LatencyFigures;
}

/** The measured value of a budget's metric in a load summary. */
function measuredFor(budget: Budget, summary: LoadFigures): number {
  if (budget.metric === 'errorRate') return summary.errorRate;
  if (budget.metric === 'errors') return summary.errors;
  if (budget.metric === 'rps') return summary.rps;
  return summary.latencyMs[budget.metric.replace(/Ms$/, '') as keyof LatencyFigures];
}

const CLAIMS: Record<string, (b: Budget) => string> = {
  errorRate: (b) => `at most ${b.limit * 100} % of requests fail`,
  errors: (b) => `at most ${b.limit} requests fail`,
  rps: (b) => `at least ${b.limit} requests per second are served`,
};

const NOTHING_MEASURED = 'no request was measured: a budget judged on nothing cannot hold';

const isLatency = (budget: Budget) => !(budget.metric in CLAIMS);

/**
 * Each budget judged on the figures. With no request measured (0 ms, 0 errors), every one
 * fails; with every request failed, the latency budgets do: a failure's time (a refused
 * connection's 1 ms) is in the histogram, but it is no answer's latency, and a p99 of
 * refusals must not pass a claim about the app's answers.
 */
export function judgeLoad(budgets: Budget[], summary: LoadFigures): Verdict[] {
  return budgets.map((budget) => {
    const claim =
      CLAIMS[budget.metric]?.(budget) ?? `${budget.metric.replace(/Ms$/, '')} latency stays within ${budget.limit} ms`;
    if (summary.requests === 0) return judge(claim, budget, null, NOTHING_MEASURED);
    if (isLatency(budget) && summary.errors >= summary.requests)
      return judge(
        claim,
        budget,
        null,
        `every one of the ${summary.requests} requests failed: no answer's latency was measured`,
      );
    return judge(claim, budget, measuredFor(budget, summary));
  });
}
