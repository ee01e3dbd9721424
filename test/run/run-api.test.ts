// The run as a library: what `dbproof gate` does, from a team's own script, in-process.
// planRun validates everything and starts nothing; runPlan starts the topology, seeds,
// starts the app, runs the suites and load scenarios, hands each result to the hooks and
// writes the run's files; its outcome says whether every budget held.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { keepBaseline, planRun, runPlan, UsageError, type LoadResult, type SuiteResult } from '../../harness/index.ts';
import { readRunResult } from '../../harness/results/writers/index.ts';
import { byIdScenario, quickSuite, writeReferenceConfig } from '../support/reference-config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('run-api');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

/** A config for the reference app, each with its own results folder (see test/support/reference-config.ts). */
const config = (name: string, body: object) => writeReferenceConfig(dir, name, body);
const scenario = byIdScenario;

/** Runs a plan, keeping what the hooks were told. */
async function runWithHooks(file: string) {
  const plan = await planRun({ config: file });
  const said: string[] = [];
  const warned: string[] = [];
  const suites: SuiteResult[] = [];
  const loads: LoadResult[] = [];
  const outcome = await runPlan(plan, {
    say: (line) => said.push(line),
    warn: (line) => warned.push(line),
    onSuite: (s) => void suites.push(s),
    onLoad: (l) => void loads.push(l),
  });
  return { plan, outcome, said, warned, suites, loads };
}

test('a gate from a script: every budget holds, the hooks hear each result, and the run files are on disk', async () => {
  const { file, results } = config('pass', { suites: quickSuite, scenarios: scenario('p99=1s,errors=0.5%') });
  const { plan, outcome, said, warned, suites, loads } = await runWithHooks(file);
  expect(plan.suites.map((s) => s.suite.name)).toEqual(['replica-lost']);
  expect(plan.scenarios).toEqual(['by-id']);

  expect(outcome.pass, JSON.stringify(outcome.result.verdicts, null, 2)).toBe(true);
  expect(outcome.result).toMatchObject({ schemaVersion: 1, incomplete: false, pass: true });
  expect(outcome.result.verdicts.map((v) => [v.source, v.budget.metric, v.pass])).toEqual([
    ['suite replica-lost', 'errorsDuringFault', true],
    ['suite replica-lost', 'timeToRecoverMs', true],
    ['load by-id', 'p99Ms', true],
    ['load by-id', 'errorRate', true],
  ]);
  expect(suites.map((s) => s.suite)).toEqual(['replica-lost']);
  expect(loads.map((l) => [l.name, l.requests, l.errors])).toEqual([['by-id', 100, 0]]);
  expect(said[0]).toBe('starting the topology (replica-lost, by-id)');
  expect(said).toContainEqual(expect.stringMatching(/^reference app is ready at http:\/\/127\.0\.0\.1:\d+$/));
  // No baseline yet: said before anything started, through warn (which --json does not silence).
  expect(warned).toEqual([
    expect.stringMatching(
      /^no baseline at .*pass-results\/baseline\.json: the load scenarios are not checked for regressions/,
    ),
  ]);

  expect(outcome.run.dir).toBe(path.join(results, outcome.run.runId));
  expect(readdirSync(outcome.run.dir).sort()).toEqual([
    'junit.xml',
    'report.html',
    'suites',
    'summary.json',
    'summary.md',
  ]);
  expect(readdirSync(path.join(outcome.run.dir, 'suites'))).toEqual(['replica-lost--reference-app.json']);
  expect(await readRunResult(path.join(results, 'latest', 'summary.json'))).toMatchObject({
    runId: outcome.run.runId,
    pass: true,
    incomplete: false,
  });

  // The passing run kept as the baseline: the next plan compares its scenario with it, and says nothing.
  const kept = await keepBaseline({ config: file });
  expect(kept.run.runId).toBe(outcome.run.runId);
  expect(existsSync(path.join(results, 'baseline.json'))).toBe(true);
  const next = await planRun({ config: file });
  expect(next.notices).toEqual([]);
  expect(next.baseline?.run?.runId).toBe(outcome.run.runId);
});

test('a budget that must break: the outcome and summary.json say fail', async () => {
  const { file, results } = config('fail', { scenarios: scenario('p99=0.001ms') });
  const { outcome, loads } = await runWithHooks(file);
  expect(outcome.pass).toBe(false);
  expect(outcome.result).toMatchObject({ incomplete: false, pass: false });
  expect(outcome.result.verdicts.map((v) => [v.source, v.budget.metric, v.pass])).toEqual([
    ['load by-id', 'p99Ms', false],
  ]);
  expect(loads[0]!.verdicts[0]!.pass).toBe(false);
  expect((await readRunResult(path.join(results, 'latest', 'summary.json'))).pass).toBe(false);
});

test('a scenario with no budget whose every request failed does not pass the gate: the run says so and is not a pass', async () => {
  // Before, it had no verdict to fail, and beside a scenario whose budgets held the gate
  // passed, though one of its loads was answered not once.
  const { file } = config('all-failed', {
    scenarios: {
      ...scenario('errors=0.5%'),
      missing: { request: 'GET /no-such-page', rate: 20, durationMs: 1000 },
    },
  });
  const plan = await planRun({ config: file });
  const outcome = await runPlan(plan, {}).then(
    (done) => ({ pass: done.pass, error: undefined }),
    (error: unknown) => ({ pass: undefined, error: error as Error }),
  );
  expect(outcome.pass).toBeUndefined();
  expect(outcome.error?.message).toMatch(
    /^scenario missing: every one of its \d+ requests failed, and it has no budget to judge them: check that the app answers GET \/no-such-page with 2xx, or give the scenario budgets/,
  );
});

test('a plan that cannot run is refused before anything starts: a UsageError, no results folder', async () => {
  const unknown = config('unknown-suite', { suites: { bogus: {} } });
  await expect(planRun({ config: unknown.file })).rejects.toThrow(
    /^unknown-suite\.config\.mjs: invalid suites\.bogus: no suite named 'bogus'; the suites are n-plus-one, /,
  );
  const noReplicas = config('no-replicas', { topology: { replicas: 0 }, suites: quickSuite });
  const refusal = await planRun({ config: noReplicas.file }).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(UsageError);
  expect((refusal as UsageError).message).toBe(
    "suite replica-lost needs at least 1 replica(s); the config's topology has 0 (set topology.replicas)",
  );
  await expect(planRun({ config: noReplicas.file, suites: ['nope'] })).rejects.toThrow(
    /^no suite named 'nope'; the suites are /,
  );
  // Every suite's options are validated, not only those of a suite with a preflight.
  const badOption = config('bad-option', { suites: { 'replica-lost': { budgets: { errors: 'many' } } } });
  await expect(planRun({ config: badOption.file })).rejects.toThrow(
    /^invalid option suites\.replica-lost\.budgets\.errors: /,
  );
  expect([unknown, noReplicas, badOption].some((c) => existsSync(c.results))).toBe(false);
});
