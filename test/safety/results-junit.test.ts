// A CI system that reads only junit.xml must not go green on a run that did not finish
// (SIGTERM, SIGKILL, a crash): the interrupted run is an error test case.
import { expect, test } from 'vitest';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { withVerdicts } from '../../harness/results/run-result.ts';
import { SCHEMA_VERSION } from '../../harness/results/schema.ts';
import { junitXml } from '../../harness/results/writers/index.ts';

const run = (incomplete: boolean, verdicts = [judge('reads keep working', atMost('errors', 1, 'count'), 0)]) =>
  withVerdicts({
    schemaVersion: 1,
    runId: '2026-01-01T00-00-00-000Z-ab12',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: incomplete ? null : '2026-01-01T00:01:00.000Z',
    incomplete,
    environment: { dbproof: '0.1.0', node: 'v20', platform: 'linux x64', cpus: 2, provider: 'native', app: 'app' },
    suites: [
      {
        schemaVersion: SCHEMA_VERSION,
        suite: 'replica-lost',
        target: 'app',
        startedAt: '2026-01-01T00:00:00.000Z',
        durationMs: 1,
        pass: true,
        verdicts,
        measurements: {},
        events: [],
        timelines: [],
        notes: [],
        findings: [],
      },
    ],
    loads: [],
  });

test('an interrupted run is an error in junit.xml, beside the budgets that finished', () => {
  const xml = junitXml(run(true));
  expect(xml).toMatch(/<testsuites name="dbproof [^"]+" tests="2" failures="0" errors="1">/);
  expect(xml).toMatch(
    /<testcase classname="dbproof" name="the run finished">\n\s*<error message="the run was interrupted before it finished: [^"]*"/,
  );
  expect(xml.match(/<testcase /g)).toHaveLength(2);
});

test('a finished run with no budget judged is an error too: nothing was proven', () => {
  expect(junitXml(run(false, []))).toMatch(
    /tests="1" failures="0" errors="1">[\s\S]*<error message="no budget was judged/,
  );
});

test('a finished run has no error case', () => {
  const xml = junitXml(run(false));
  expect(xml).toMatch(/<testsuites name="dbproof [^"]+" tests="1" failures="0" errors="0">/);
  expect(xml).not.toMatch(/<error/);
});
