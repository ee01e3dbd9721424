// Budget strings as people write them (`p99=200ms,errors=0.1%,rps=50`), verdicts, and the
// same budgets as k6 thresholds, one to one.
import { describe, expect, test } from 'vitest';
import { atLeast, atMost, dependsOnTime, formatValue, formatVerdict, judge } from '../../harness/budgets/index.ts';
import { judgeLoad, parseBudgets } from '../../harness/budgets/traffic.ts';
import { k6Thresholds } from '../../load/k6/thresholds.ts';

describe('parseBudgets', () => {
  test.each([
    ['p99=200ms', [{ metric: 'p99Ms', op: '<=', limit: 200, unit: 'ms' }]],
    ['p95=1.5s', [{ metric: 'p95Ms', op: '<=', limit: 1500, unit: 'ms' }]],
    ['p99.9=20ms', [{ metric: 'p99.9Ms', op: '<=', limit: 20, unit: 'ms' }]],
    [
      'max=2s,mean=10ms',
      [
        { metric: 'maxMs', op: '<=', limit: 2000, unit: 'ms' },
        { metric: 'meanMs', op: '<=', limit: 10, unit: 'ms' },
      ],
    ],
    ['errors=0.1%', [{ metric: 'errorRate', op: '<=', limit: 0.001, unit: 'ratio' }]],
    ['errors=0', [{ metric: 'errors', op: '<=', limit: 0, unit: 'count' }]],
    ['rps=50', [{ metric: 'rps', op: '>=', limit: 50, unit: 'count' }]],
    [
      ' p50=5ms , rps=1.5 ',
      [
        { metric: 'p50Ms', op: '<=', limit: 5, unit: 'ms' },
        { metric: 'rps', op: '>=', limit: 1.5, unit: 'count' },
      ],
    ],
  ])('%j', (text, budgets) => {
    expect(parseBudgets(text)).toEqual(budgets);
  });

  test('a scope is carried by every budget', () => {
    expect(parseBudgets('p99=1s,errors=0', 'GET /a').map((b) => b.scope)).toEqual(['GET /a', 'GET /a']);
  });

  test.each([
    ['p99=200', /a latency needs a unit, e.g. p99=200ms/],
    ['p99', /'p99' is not metric=value/],
    ['p99=', /is not metric=value/],
    ['p99=1ms=2', /is not metric=value/],
    ['errors=lots', /give a share \(errors=0\.1%\) or a count/],
    ['rps=fast', /a throughput floor in requests per second/],
    ['p42=1ms', /unknown metric 'p42'; the metrics are p50, p90, p95, p99, p99\.9, max, mean, errors, rps/],
  ])('%j is refused', (text, message) => {
    expect(() => parseBudgets(text)).toThrow(message);
  });
});

describe('judge', () => {
  test.each([
    [atMost('t', 100, 'ms'), 80, true, 20],
    [atMost('t', 100, 'ms'), 100, true, 0],
    [atMost('t', 100, 'ms'), 120, false, -20],
    [atLeast('hitRate', 0.8, 'ratio'), 0.9, true, 0.1],
    [atLeast('hitRate', 0.8, 'ratio'), 0.5, false, -0.3],
    [{ metric: 'x', op: '<', limit: 5, unit: 'count' }, 5, false, 0],
    [{ metric: 'x', op: '>', limit: 5, unit: 'count' }, 6, true, 1],
  ] as const)('%j measured %d: pass %s, margin %d', (budget, measured, pass, margin) => {
    const verdict = judge('claim', budget, measured);
    expect(verdict.pass).toBe(pass);
    expect(verdict.margin).toBeCloseTo(margin);
  });

  test('nothing measured never passes, whatever the direction', () => {
    for (const budget of [atMost('t', 100, 'ms'), atLeast('r', 0, 'count')])
      expect(judge('c', budget, null)).toMatchObject({ pass: false, margin: null, measured: null });
  });

  test('a verdict reads as one line, its evidence under it when it fails', () => {
    expect(formatVerdict(judge('recovers in 2 s', atMost('timeToRecoverMs', 2000, 'ms', 'replica1'), 120))).toBe(
      'PASS  recovers in 2 s — timeToRecoverMs [replica1] 120 ms <= 2000 ms (margin 1880 ms)',
    );
    expect(formatVerdict(judge('no errors', atMost('errors', 0, 'count'), 3, 'HTTP 503'))).toBe(
      'FAIL  no errors — errors 3 <= 0 (margin -3)\n      HTTP 503',
    );
    expect(formatVerdict(judge('recovers', atMost('t', 1, 'ms'), null))).toMatch(
      /never <= 1 ms \(no margin: nothing was measured\)$/,
    );
  });

  test.each([
    [0.1234, 'ratio', '12.3 %'],
    [12.34, 'ms', '12.3 ms'],
    [1024.4, 'bytes', '1024 B'],
    [2.345, 'count', '2.35'],
    [null, 'ms', 'never'],
  ] as const)('formatValue(%j, %s) = %s', (value, unit, text) => {
    expect(formatValue(value, unit)).toBe(text);
  });
});

test('judgeLoad reads each budget from the load figures', () => {
  const figures = {
    requests: 1000,
    errors: 2,
    errorRate: 0.002,
    rps: 99,
    latencyMs: { p50: 1, p90: 2, p95: 3, p99: 150, 'p99.9': 300, max: 400, mean: 5 },
  };
  const verdicts = judgeLoad(parseBudgets('p99=200ms,errors=0.1%,rps=100,errors=5'), figures as never);
  expect(verdicts.map((v) => [v.measured, v.pass])).toEqual([
    [150, true],
    [0.002, false],
    [99, false],
    [2, true],
  ]);
  expect(verdicts.map((v) => v.claim)).toEqual([
    'p99 latency stays within 200 ms',
    'at most 0.1 % of requests fail',
    'at least 100 requests per second are served',
    'at most 5 requests fail',
  ]);
});

describe('k6Thresholds', () => {
  test('each budget maps onto one k6 threshold', () => {
    expect(
      k6Thresholds(parseBudgets('p50=5ms,p99=200ms,p99.9=1s,max=2s,mean=10ms,errors=0.1%,errors=3,rps=50')),
    ).toEqual({
      http_req_duration: ['med<=5', 'p(99)<=200', 'p(99.9)<=1000', 'max<=2000', 'avg<=10'],
      http_req_failed: ['rate<=0.001'],
      failed_requests: ['count<=3'],
      http_reqs: ['rate>=50'],
    });
  });
  test('a budget k6 cannot express is refused', () => {
    expect(() => k6Thresholds([atMost('timeToRecoverMs', 1, 'ms')])).toThrow(
      /no k6 threshold for budget metric timeToRecoverMs/,
    );
  });
});

test("what a migration did and which answers lack a header are content: a busy machine never excuses them; a migration's wait is time", () => {
  for (const metric of [
    'rewritesUnderLock',
    'lockWithoutTimeout',
    'failedStatements',
    'invalidIndexes',
    'commandUnseen',
    'cspBreaches',
  ])
    expect(dependsOnTime(atMost(metric, 0, 'count')), metric).toBe(false);
  expect(dependsOnTime(atMost('appBlockedMs', 200, 'ms'))).toBe(true);
  expect(dependsOnTime(atMost('errorsDuringMigration', 0, 'count'))).toBe(true);
});
