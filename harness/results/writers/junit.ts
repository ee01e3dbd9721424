import { formatVerdict } from '../../budgets/index.ts';
import type { RunResult } from '../run-result.ts';
import { escapeMarkup as xml } from './escape.ts';

/**
 * Why the run proves nothing, as an error test case: a CI system that reads only
 * junit.xml must not go green on a run that was interrupted or judged no budget.
 */
function runError(run: RunResult): string | undefined {
  if (run.incomplete)
    return `the run was interrupted before it finished: ${run.verdicts.length} budget(s) judged so far; run it again`;
  if (run.verdicts.length === 0) return 'no budget was judged: give the suites or scenarios budgets to check';
  return undefined;
}

/** JUnit XML for CI systems: a test suite per source (suite or load scenario), a test case per budget. */
export function junitXml(run: RunResult): string {
  const sources = [...new Set(run.verdicts.map((v) => v.source))];
  const suites = sources.map((source) => {
    const verdicts = run.verdicts.filter((v) => v.source === source);
    const cases = verdicts.map((v) => {
      // The scope in the name: a mix's endpoints have the same claim and budget, and CI systems merge same-named cases.
      const name = `${v.claim} (${v.budget.metric} ${v.budget.op} ${v.budget.limit}${v.budget.scope ? ` for ${v.budget.scope}` : ''})`;
      return v.pass
        ? `    <testcase classname="${xml(source)}" name="${xml(name)}"/>`
        : `    <testcase classname="${xml(source)}" name="${xml(name)}">\n      <failure message="${xml(formatVerdict(v).split('\n')[0]!)}">${xml(formatVerdict(v))}</failure>\n    </testcase>`;
    });
    return `  <testsuite name="${xml(source)}" tests="${verdicts.length}" failures="${verdicts.filter((v) => !v.pass).length}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const error = runError(run);
  if (error)
    suites.push(
      `  <testsuite name="dbproof" tests="1" failures="0" errors="1">\n    <testcase classname="dbproof" name="the run finished">\n      <error message="${xml(error)}"/>\n    </testcase>\n  </testsuite>`,
    );
  const failures = run.verdicts.filter((v) => !v.pass).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dbproof ${xml(run.runId)}" tests="${run.verdicts.length + (error ? 1 : 0)}" failures="${failures}" errors="${error ? 1 : 0}">\n${suites.join('\n')}\n</testsuites>\n`;
}
