// The n-plus-one suite on the reference app: its default endpoints (the join, the dashboard's
// fixed four queries) pass; the per-row endpoints next to them are flagged, with the
// statement, its counts per size and the fix, in the result's findings.
import { beforeAll, afterAll, expect, test } from 'vitest';
import { resolveSuiteOptions } from '../../harness/suite/index.ts';
import { startReferenceTarget, runOn, type ReferenceTarget } from '../support/reference-target.ts';
import { verdictLines } from '../support/expect-verdicts.ts';
import { nPlusOne } from './n-plus-one.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
let target: ReferenceTarget;
beforeAll(async () => {
  target = await startReferenceTarget(topology);
}, 120_000);
afterAll(() => target?.stop());

test('the join and the dashboard run the same statements at every size: no finding, the suite passes', async () => {
  const result = await runOn(nPlusOne, target);
  expect(result.pass, verdictLines(result)).toBe(true);
  expect(result.verdicts.map((v) => [v.budget.scope, v.measured])).toEqual([
    ['GET /inspections-joined?limit={K}', 0],
    ['GET /dashboard?limit={K}', 0],
  ]);
  expect(result.findings).toEqual([]);
});

test('the inspector looked up per row is flagged: the verdict fails, and the finding names the statement, its counts and the fix', async () => {
  const result = await runOn(nPlusOne, target, {
    endpoints: ['GET /inspections?limit={K}', 'GET /inspections-joined?limit={K}'],
    sizes: [4, 12],
  });
  expect(result.pass).toBe(false);
  const [perRow, joined] = result.verdicts;
  expect(perRow).toMatchObject({ pass: false, measured: 1 });
  expect(perRow!.evidence).toMatch(/SELECT name FROM inspectors WHERE id = \$1 ran 4 → 12 times at sizes 4 → 12/);
  expect(joined!.pass).toBe(true);
  expect(result.findings).toEqual([
    expect.objectContaining({
      operation: 'GET /inspections?limit={K}',
      exampleSql: 'SELECT name FROM inspectors WHERE id = $1',
      countsBySize: { 4: 4, 12: 12 },
      slope: 1,
      hint: expect.stringMatching(/ANY|JOIN/),
    }),
  ]);
});

test('no statement seen (the role given is not the one the app connects as): nothing measured, the verdict fails and says why', async () => {
  // Before, 0 shapes made 0 statements per item: a pass.
  const result = await runOn(nPlusOne, target, { endpoints: ['GET /inspections?limit={K}'], role: 'not_the_app' });
  expect(result.pass).toBe(false);
  expect(result.verdicts).toEqual([
    expect.objectContaining({
      pass: false,
      measured: null,
      evidence: expect.stringMatching(
        /^no statement ran as role 'not_the_app' in database '[^']+' while GET \/inspections/,
      ),
    }),
  ]);
});

test('options are checked: a request without {K}, sizes that do not increase', () => {
  expect(() => resolveSuiteOptions(nPlusOne, { endpoints: ['GET /inspections'] })).toThrow(
    /invalid option suites.n-plus-one.endpoints.0: a GET request with \{K\}/,
  );
  expect(() => resolveSuiteOptions(nPlusOne, { sizes: [25, 5] })).toThrow(
    /invalid option suites.n-plus-one.sizes: give increasing sizes/,
  );
});
