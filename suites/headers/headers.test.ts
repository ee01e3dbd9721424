// "Security headers on every response": the reference app sets them before it routes, so its
// 404, 429 and 500 answers carry them too; its naive variant sets them only on the happy
// path, and the suite names the answers that go out bare.
import { describe, expect, test } from 'vitest';
import { referenceTargets, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { headers } from './headers.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const seed = { scale: 0.001, seed: 18 };
const targets = referenceTargets(topology, {
  good: { seed },
  successOnly: { name: 'reference app, headers on 2xx only', env: { EXAMPLE_HEADERS: 'success-only' }, seed },
});

describe('headers', () => {
  test('every kind of answer (200, a cookie, 404, 429, 500) carries every header', async () => {
    const result = await runOn(headers, targets.good);
    expect(result.pass, verdictLines(result)).toBe(true);
    expect(result.measurements).toMatchObject({ answers: 5, answers2xx: 2, answers4xx: 2, answers5xx: 1 });
  });

  test('headers set only on 2xx: each rule fails, naming the 404, 429 and 500 answers and not the 200s', async () => {
    const result = await runOn(headers, targets.successOnly);
    for (const rule of ['hsts', 'csp', 'nosniff', 'framing', 'referrer'])
      expect(verdictOn(result, `${rule}Breaches`).measured, verdictLines(result)).toBe(3);
    const nosniff = verdictOn(result, 'nosniffBreaches');
    expect(nosniff.evidence).toBe(
      'GET /dbproof-no-such-page 404: no X-Content-Type-Options: nosniff; GET /api/inspections/1 429: no X-Content-Type-Options: nosniff; GET /slow?ms=3000 500: no X-Content-Type-Options: nosniff',
    );
    // The rules the switch does not touch still hold.
    expect(verdictOn(result, 'cookiesBreaches').pass, verdictLines(result)).toBe(true);
    expect(verdictOn(result, 'leaksBreaches').pass, verdictLines(result)).toBe(true);
  });

  test('a request that does not answer the status it is listed for is bad input, in one line', async () => {
    await expect(
      runOn(headers, targets.good, { requests: [{ request: 'GET /inspections/1', status: 500 }] }),
    ).rejects.toThrow(
      /^suite headers: GET \/inspections\/1 answered 200, not the 500 it is listed for \(after 1 request\(s\)\)/,
    );
  });
});
