// Budgets and verdicts read the same everywhere; a suite's result is validated and
// written atomically, never half a file, and never overwrites an earlier one of the run.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { atLeast, atMost, formatVerdict, judge } from '../../harness/budgets/index.ts';
import {
  createRunDirectory,
  readSuiteResult,
  writeSuiteResult,
  type SuiteResult,
} from '../../harness/results/index.ts';
import { finishedRun, loadResult, suiteResult } from '../support/runs.ts';
import { tempDir } from '../support/temp.ts';

describe('judge', () => {
  test('a measurement within an upper budget passes with the headroom as its margin', () => {
    expect(judge('recovers fast', atMost('timeToRecoverMs', 2000, 'ms'), 1500)).toMatchObject({
      pass: true,
      margin: 500,
    });
  });

  test('a measurement beyond an upper budget fails with a negative margin', () => {
    expect(judge('recovers fast', atMost('timeToRecoverMs', 2000, 'ms'), 2600)).toMatchObject({
      pass: false,
      margin: -600,
    });
  });

  test('a lower budget (a hit rate) passes above its limit and fails below', () => {
    expect(judge('hits', atLeast('hitRate', 0.8, 'ratio'), 0.9).pass).toBe(true);
    expect(judge('hits', atLeast('hitRate', 0.8, 'ratio'), 0.7)).toMatchObject({ pass: false });
  });

  test('nothing measured (a load that never recovered) never passes', () => {
    expect(judge('recovers fast', atMost('timeToRecoverMs', 2000, 'ms'), null)).toMatchObject({
      pass: false,
      margin: null,
    });
  });

  test('the verdict line names the claim, the budget, the measured value and the margin', () => {
    const line = formatVerdict(
      judge('reads recover within 2 s', atMost('timeToRecoverMs', 2000, 'ms', 'GET /x'), 2600, 'last error: HTTP 500'),
    );
    expect(line).toBe(
      'FAIL  reads recover within 2 s — timeToRecoverMs [GET /x] 2600 ms <= 2000 ms (margin -600 ms)\n      last error: HTTP 500',
    );
    expect(formatVerdict(judge('hits', atLeast('hitRate', 0.8, 'ratio'), 0.9))).toBe(
      'PASS  hits — hitRate 90 % >= 80 % (margin 10 %)',
    );
  });
});

describe('suite results', () => {
  test('are written under <run>/suites/, read back equal, and latest points at the run', async () => {
    const root = tempDir('results');
    const run = await createRunDirectory(root);
    const written = suiteResult(true);
    const file = await writeSuiteResult(run, written);
    expect(path.relative(root, file)).toBe(path.join(run.runId, 'suites', 'replica-lost--reference-app.json'));
    expect(await readSuiteResult(file)).toEqual(written);
    expect(readdirSync(path.join(root, 'latest', 'suites'))).toEqual(['replica-lost--reference-app.json']);
    // No temporary file is left beside it.
    expect(readdirSync(path.dirname(file))).toEqual(['replica-lost--reference-app.json']);
  });

  test('a second result of the same suite and app in one run is kept beside the first', async () => {
    const run = await createRunDirectory(tempDir('results'));
    await writeSuiteResult(run, suiteResult(true));
    await writeSuiteResult(run, suiteResult(false));
    expect(readdirSync(path.join(run.dir, 'suites')).sort()).toEqual([
      'replica-lost--reference-app-2.json',
      'replica-lost--reference-app.json',
    ]);
  });

  test('a file of another schema version is refused with a message that says what to do', async () => {
    const file = path.join(tempDir('results'), 'old.json');
    writeFileSync(file, JSON.stringify({ ...suiteResult(true), schemaVersion: 0 }));
    await expect(readSuiteResult(file)).rejects.toThrow(
      /is not a dbproof suite result of schema version 1 \(schemaVersion: .*\); re-run the suite/,
    );
  });

  test('a result that does not match the schema is not written at all', async () => {
    const run = await createRunDirectory(tempDir('results'));
    await expect(
      writeSuiteResult(run, { ...suiteResult(true), measurements: { errors: 'many' } } as unknown as SuiteResult),
    ).rejects.toThrow();
    expect(readdirSync(run.dir)).toEqual([]);
  });
});

describe('run results for CI systems and pull requests', () => {
  test("a mix's per-endpoint budgets stay apart: distinct JUnit case names, the scope in summary.md", async () => {
    const { junitXml, summaryMarkdown } = await import('../../harness/results/writers/index.ts');
    const verdicts = ['GET /a', 'GET /b'].map((scope, i) =>
      judge('p99 latency stays within 200 ms', atMost('p99Ms', 200, 'ms', scope), i === 0 ? 20 : 300),
    );
    const run = finishedRun([], [{ ...loadResult('browse', verdicts), request: 'mix' }]);
    const names = [...junitXml(run).matchAll(/<testcase classname="load browse" name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual([
      'p99 latency stays within 200 ms (p99Ms &lt;= 200 for GET /a)',
      'p99 latency stays within 200 ms (p99Ms &lt;= 200 for GET /b)',
    ]);
    const markdown = summaryMarkdown(run);
    expect(markdown).toContain(
      '| ✅ | load browse | p99 latency stays within 200 ms | `p99Ms <= 200 ms` for `GET /a` | 20 ms |',
    );
    expect(markdown).toContain(
      '| ❌ | load browse | p99 latency stays within 200 ms | `p99Ms <= 200 ms` for `GET /b` | 300 ms |',
    );
  });
});

describe('summary.md lists the N+1 findings a reviewer acts on', () => {
  const runWith = (findings: SuiteResult['findings']) =>
    finishedRun([{ ...suiteResult(findings.length === 0), suite: 'n-plus-one', findings }], []);

  test('each finding under the budgets: endpoint, statement, runs per size, per item, fix', async () => {
    const { summaryMarkdown } = await import('../../harness/results/writers/index.ts');
    const markdown = summaryMarkdown(
      await runWith([
        {
          operation: 'GET /orders?limit={K}',
          exampleSql: 'select name\n  from customers where id = $1 | 1',
          countsBySize: { '25': 25, '5': 5 },
          slope: 1,
          hint: 'load the customers in one query (WHERE id = ANY($1)) or a join',
        },
      ]),
    );
    const lines = markdown.split('\n');
    expect(lines).toContain('### N+1 findings (1)');
    expect(lines).toContain(
      '| GET /orders?limit={K} | `select name from customers where id = $1 \\| 1` | 5 → 5, 25 → 25 | 1 | load the customers in one query (WHERE id = ANY($1)) or a join |',
    );
    // Under the budgets table, before anything else.
    expect(lines.indexOf('### N+1 findings (1)')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('| ❌')));
  });

  test('no finding, no section', async () => {
    const { summaryMarkdown } = await import('../../harness/results/writers/index.ts');
    expect(summaryMarkdown(await runWith([]))).not.toContain('N+1 findings');
  });
});
