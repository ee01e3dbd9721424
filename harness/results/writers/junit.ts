import { formatVerdict, type Verdict } from '../../budgets/index.ts';
import type { RunResult } from '../run-result.ts';
import { escapeMarkup as xml } from './escape.ts';

/**
 * Why the run proves nothing, as an error test case: a CI system that reads only
 * junit.xml must not go green on a run that was interrupted or judged no budget.
 */
function runError(run: RunResult): string | undefined {
  if (run.incomplete)
    return `the run was interrupted before it finished: ${run.verdicts.length} budget(s) judged so far; run it again`;
  // An empty shard passes with nothing judged (see isEmptyShard); any other run without a verdict proves nothing.
  if (run.verdicts.length === 0 && !run.pass)
    return 'no budget was judged: give the suites or scenarios budgets to check';
  return undefined;
}

function caseName(v: Verdict): string {
  // The scope in the name: a mix's endpoints have the same claim and budget, and CI systems merge same-named cases.
  const scope = v.budget.scope ? ` for ${v.budget.scope}` : '';
  return `${v.claim} (${v.budget.metric} ${v.budget.op} ${v.budget.limit}${scope})`;
}

function renderTestCase(source: string, v: Verdict): string {
  const open = `    <testcase classname="${xml(source)}" name="${xml(caseName(v))}"`;
  if (v.pass) return `${open}/>`;
  const verdict = formatVerdict(v);
  // The machine could not measure: an error (the test could not run), never a failure or a pass.
  const element = v.inconclusive ? 'error' : 'failure';
  return [
    `${open}>`,
    `      <${element} message="${xml(verdict.split('\n')[0]!)}">${xml(verdict)}</${element}>`,
    '    </testcase>',
  ].join('\n');
}

function renderTestSuite(source: string, verdicts: Verdict[]): string {
  const failures = verdicts.filter((v) => !v.pass && !v.inconclusive).length;
  const errors = verdicts.filter((v) => v.inconclusive).length;
  const counts = `tests="${verdicts.length}" failures="${failures}"${errors ? ` errors="${errors}"` : ''}`;
  return [
    `  <testsuite name="${xml(source)}" ${counts}>`,
    ...verdicts.map((v) => renderTestCase(source, v)),
    '  </testsuite>',
  ].join('\n');
}

function renderErrorSuite(error: string): string {
  return [
    '  <testsuite name="dbproof" tests="1" failures="0" errors="1">',
    '    <testcase classname="dbproof" name="the run finished">',
    `      <error message="${xml(error)}"/>`,
    '    </testcase>',
    '  </testsuite>',
  ].join('\n');
}

/** JUnit XML for CI systems: a test suite per source (suite or load scenario), a test case per budget. */
export function junitXml(run: RunResult): string {
  const sources = [...new Set(run.verdicts.map((v) => v.source))];
  const verdictsOf = (source: string) => run.verdicts.filter((v) => v.source === source);
  const suites = sources.map((source) => renderTestSuite(source, verdictsOf(source)));
  const error = runError(run);
  if (error) suites.push(renderErrorSuite(error));
  const failures = run.verdicts.filter((v) => !v.pass && !v.inconclusive).length;
  const errors = (error ? 1 : 0) + run.verdicts.filter((v) => v.inconclusive).length;
  const tests = run.verdicts.length + errors;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dbproof ${xml(run.runId)}" tests="${tests}" failures="${failures}" errors="${errors}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
