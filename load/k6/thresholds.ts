import type { Budget } from '../../harness/budgets/index.ts';

/**
 * dbproof's budgets as k6 thresholds, one to one: `p99 <= 200 ms` is
 * `http_req_duration: ['p(99)<=200']`, an error share is `http_req_failed: ['rate<=0.001']`,
 * an error count is the script's own `failed_requests` counter, a throughput floor is
 * `http_reqs: ['rate>=50']`.
 */
const DURATION_STAT: Record<string, string> = {
  p50Ms: 'med',
  p90Ms: 'p(90)',
  p95Ms: 'p(95)',
  p99Ms: 'p(99)',
  'p99.9Ms': 'p(99.9)',
  maxMs: 'max',
  meanMs: 'avg',
};

export function k6Thresholds(budgets: Budget[]): Record<string, string[]> {
  const thresholds: Record<string, string[]> = {};
  const add = (metric: string, expression: string) => {
    thresholds[metric] = [...(thresholds[metric] ?? []), expression];
  };
  for (const budget of budgets) {
    const stat = DURATION_STAT[budget.metric];
    if (stat) add('http_req_duration', `${stat}${budget.op}${budget.limit}`);
    else if (budget.metric === 'errorRate') add('http_req_failed', `rate${budget.op}${budget.limit}`);
    else if (budget.metric === 'errors') add('failed_requests', `count${budget.op}${budget.limit}`);
    else if (budget.metric === 'rps') add('http_reqs', `rate${budget.op}${budget.limit}`);
    else throw new Error(`no k6 threshold for budget metric ${budget.metric}`);
  }
  return thresholds;
}
