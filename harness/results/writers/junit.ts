import { formatVerdict } from '../../budgets/index.ts';
import type { RunResult } from '../run-result.ts';
import { escapeMarkup as xml } from './escape.ts';


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
  const failures = run.verdicts.filter((v) => !v.pass).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dbproof ${xml(run.runId)}" tests="${run.verdicts.length}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}
