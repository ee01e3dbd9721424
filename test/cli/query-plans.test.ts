// The query-plans suite through `dbproof gate`, as a team runs it: on the reference app its
// claims hold (exit 0), on the app with EXAMPLE_PLANS=broken they fail (exit 1) with the plan
// node in the verdict's evidence, in summary.json and junit.xml like every suite's; bad input
// is one line and exit 2, before anything starts where the config alone says it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readRunResult } from '../../harness/results/writers/index.ts';
import { runCli } from '../support/cli.ts';
import { writeReferenceConfig } from '../support/reference-config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir('query-plans');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
const resultsDir = path.join(dir, 'results');
const topology = { replicas: 1, redis: false };

const config = (name: string, body: object, env?: Record<string, string>): string =>
  writeReferenceConfig(dir, name, { topology, ...body }, { env, results: resultsDir }).file;

/** One endpoint and the claims that fail when its statement is broken, on the demo's small data set. */
const checklist = {
  'query-plans': {
    endpoints: [
      { request: 'GET /inspections/{id}/checklist', requests: 3, claims: { readsByIndex: ['checklist_items'] } },
    ],
  },
};

describe('bad input: exit 2, one line, nothing started or written', () => {
  test.each<[string, object, RegExp]>([
    [
      'no endpoints',
      { 'query-plans': { endpoints: [] } },
      /invalid option suites\.query-plans\.endpoints: name at least one endpoint/,
    ],
    [
      'a speed-up claim naming no index to compare without',
      {
        'query-plans': {
          endpoints: [{ request: 'GET /media/recent?limit=20', claims: { speedUp: { atLeast: 30 } } }],
        },
      },
      /invalid option suites\.query-plans\.endpoints\.0\.claims\.speedUp\.index: name the index to compare with and without/,
    ],
    [
      'auto_explain left out of shared_preload_libraries',
      {
        ...checklist,
        topology: { ...topology, postgres: { settings: { shared_preload_libraries: 'pg_stat_statements' } } },
      },
      /suite query-plans needs auto_explain, which topology\.postgres\.settings\.shared_preload_libraries \('pg_stat_statements'\) leaves out/,
    ],
    [
      'an auto_explain setting fixed on the command line',
      { ...checklist, topology: { ...topology, postgres: { settings: { 'auto_explain.log_min_duration': 0 } } } },
      /suite query-plans turns auto_explain on and off itself: remove auto_explain\.log_min_duration/,
    ],
    [
      'a size ladder of one size',
      {
        'query-plans': {
          endpoints: [{ request: 'GET /media/recent?limit=20', claims: { scaling: { ladder: [0.1] } } }],
        },
      },
      /invalid option suites\.query-plans\.endpoints\.0\.claims\.scaling\.ladder: a ladder needs at least 2 sizes to fit a growth/,
    ],
    [
      'a size ladder with no data set to seed',
      {
        dataset: false,
        'query-plans': {
          endpoints: [{ request: 'GET /media/recent?limit=20', claims: { scaling: { ladder: [0.01, 0.1] } } }],
        },
      },
      /^dbproof: suite query-plans: a scaling claim seeds the run's data set again .*set dataset in the config/,
    ],
    [
      'underLoad naming a scenario the config lacks',
      {
        'query-plans': {
          endpoints: [{ request: 'GET /media/recent?limit=20', claims: { statementP99Ms: 50 } }],
          underLoad: 'checkout',
        },
      },
      /invalid option suites\.query-plans\.underLoad: no load scenario "checkout" in the config \(it has none\)/,
    ],
  ])('%s', async (name, body, message) => {
    const { topology: spec, dataset, ...suites } = body as { topology?: object; dataset?: false };
    const file = writeReferenceConfig(
      dir,
      name.replace(/\W+/g, '-'),
      { topology: spec ?? topology, suites, ...(dataset === false ? { dataset } : {}) },
      { results: resultsDir },
    ).file;
    const result = await runCli(['gate', '--config', file]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(resultsDir) ? readdirSync(resultsDir) : []).toEqual([]);
  });

  test('a claim naming a table the database lacks: exit 2 naming it, before any request', async () => {
    const result = await runCli([
      'gate',
      '--config',
      config('no-table', {
        suites: {
          'query-plans': {
            endpoints: [{ request: 'GET /inspections/{id}/checklist', claims: { readsByIndex: ['checklist'] } }],
          },
        },
      }),
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /invalid option suites\.query-plans\.endpoints\.0\.claims\.readsByIndex: no table "checklist" in the app's database \S+; name a table GET \/inspections\/\{id\}\/checklist reads/,
    );
  });
});

test('the gate passes the good endpoints and fails the broken ones, naming the plan node', async () => {
  const good = await runCli(['gate', '--config', config('good', { suites: checklist })]);
  expect(good.code, good.stderr + good.stdout).toBe(0);

  const broken = await runCli([
    'gate',
    '--config',
    config('broken', { suites: checklist }, { EXAMPLE_PLANS: 'broken' }),
  ]);
  expect(broken.code, broken.stderr + broken.stdout).toBe(1);
  const runDir = path.join(resultsDir, 'latest');
  const summary = await readRunResult(path.join(runDir, 'summary.json'));
  expect(summary.verdicts).toEqual([
    expect.objectContaining({
      source: 'suite query-plans',
      claim: 'GET /inspections/{id}/checklist reads checklist_items by an index',
      pass: false,
      measured: 3,
      evidence: expect.stringMatching(
        /WHERE c\.inspection_id = \$1::numeric .*: Seq Scan on checklist_items \(not by an index, \d+ rows out\) in 3 of 3 plans/,
      ),
    }),
  ]);
  expect(readFileSync(path.join(runDir, 'junit.xml'), 'utf8')).toMatch(/Seq Scan on checklist_items/);
  // report.html draws the plan, the node that broke the claim marked.
  expect(readFileSync(path.join(runDir, 'report.html'), 'utf8')).toMatch(
    /<details class="plan" open><summary>GET \/inspections\/\{id\}\/checklist reads checklist_items by an index: the plan of GET \/inspections\/\d+\/checklist, .*<li class="offending"><span>Seq Scan on checklist_items<\/span> <span class="muted">\d+ rows — not by an index<\/span><\/li>/,
  );
});
