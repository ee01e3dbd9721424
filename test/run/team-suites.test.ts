// A team's own suite, defined in the team's repository with `defineSuite` from 'dbproof' and
// named in its config (`suites: { 'inspection-reads': { use, …options } }`), is checked
// before anything starts and then run by `dbproof gate`/`dbproof test` like one of
// dbproof's: its verdicts, measurements and timeline in every result file. The project
// here lives outside the package and finds dbproof as an installed package does, through
// node_modules/dbproof.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { readRunResult } from '../../harness/results/writers/index.ts';
import { runCli } from '../support/cli.ts';
import { writeReferenceConfig } from '../support/reference-config.ts';
import { tempDir } from '../support/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUITE_SOURCE = fileURLToPath(new URL('../support/team-project/inspection-reads.ts', import.meta.url));

const project = tempDir('team-suites');
writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }\n');
mkdirSync(path.join(project, 'node_modules'));
symlinkSync(ROOT, path.join(project, 'node_modules', 'dbproof'), 'dir');
mkdirSync(path.join(project, 'suites'));
copyFileSync(SUITE_SOURCE, path.join(project, 'suites', 'inspection-reads.ts'));

/** A module of the team's in suites/, from its source. */
const suiteModule = (name: string, source: string): string => {
  writeFileSync(path.join(project, 'suites', `${name}.ts`), source);
  return `./suites/${name}.ts`;
};

/**
 * A config for the reference app whose suites are `suites`; a value `{ $import: './x.ts' }`
 * becomes the default export of that module, imported as a team's config imports its suite.
 */
function teamConfig(name: string, suites: Record<string, object>): { file: string; results: string } {
  const imports: string[] = [];
  const written = writeReferenceConfig(project, name, { suites }, { typescript: true });
  const source = readFileSync(written.file, 'utf8').replace(/\{\s*"\$import": ("[^"]+")\s*\}/g, (_, from: string) => {
    imports.push(`import suite${imports.length} from ${from};`);
    return `suite${imports.length - 1}`;
  });
  writeFileSync(written.file, `${imports.join('\n')}\n${source}`);
  return written;
}

const INSPECTION_READS = './suites/inspection-reads.ts';

describe('a team suite the config cannot run: exit 2, one line, nothing started', () => {
  const cases: [string, Record<string, object>, RegExp][] = [
    [
      "an entry under one of dbproof's names",
      { 'replica-lost': { use: INSPECTION_READS } },
      /invalid suites\.replica-lost: 'replica-lost' is a suite dbproof ships; name your own suite differently/,
    ],
    [
      "a suite named as one of dbproof's",
      {
        'my-pool': {
          use: suiteModule(
            'named-pool',
            "import { defineSuite, z } from 'dbproof';\nexport default defineSuite({ name: 'pool', description: 'x', options: z.object({}), requires: {}, run: async () => ({ verdicts: [], measurements: {}, events: [], timelines: [], notes: [] }) });\n",
          ),
        },
      },
      /invalid suites\.my-pool\.use: the suite is named 'pool', a suite dbproof ships/,
    ],
    [
      'a suite with no name',
      {
        nameless: {
          use: suiteModule(
            'nameless',
            "import { defineSuite, z } from 'dbproof';\nexport default defineSuite({ name: '', description: 'x', options: z.object({}), requires: {}, run: async () => ({ verdicts: [], measurements: {}, events: [], timelines: [], notes: [] }) });\n",
          ),
        },
      },
      /invalid suites\.nameless\.use: the suite has no name; give defineSuite\(\{ name: 'nameless'/,
    ],
    [
      'an entry named differently from its suite',
      { 'inspection-checks': { use: INSPECTION_READS } },
      /invalid suites\.inspection-checks\.use: the suite is named 'inspection-reads'; its entry must have the same name/,
    ],
    [
      "options the suite's schema rejects",
      { 'inspection-reads': { use: INSPECTION_READS, rate: -5 } },
      /invalid option suites\.inspection-reads\.rate: /,
    ],
    [
      'an option the suite does not have',
      { 'inspection-reads': { use: INSPECTION_READS, budgets: { p95Ms: 100 } } },
      /invalid option suites\.inspection-reads\.budgets: .*p95Ms/,
    ],
    [
      'a suite module that throws on import',
      { broken: { use: suiteModule('broken', "throw new Error('DATABASE_URL is not set');\n") } },
      /suites\.broken\.use .*broken\.ts could not be loaded: DATABASE_URL is not set/,
    ],
    [
      'a module that exports no suite',
      { empty: { use: suiteModule('empty', 'export const answer = 42;\n') } },
      /invalid suites\.empty\.use: .*empty\.ts exports no suite; export default defineSuite/,
    ],
    ['a use that is not a suite', { odd: { use: 42 } }, /invalid suites\.odd\.use: not a suite/],
    [
      'requirements a suite may not state',
      {
        greedy: {
          use: suiteModule(
            'greedy',
            "import { defineSuite, z } from 'dbproof';\nexport default { name: 'greedy', description: 'x', options: z.object({}), requires: { replicas: 'two' }, run: async () => ({ verdicts: [], measurements: {}, events: [], timelines: [], notes: [] }) };\n",
          ),
        },
      },
      /invalid suites\.greedy\.use: requires\.replicas: .*\(e\.g\. requires: \{ replicas: 1, redis: true, destructive: false \}\)/,
    ],
    [
      'options that are not a zod schema',
      {
        homemade: {
          use: suiteModule(
            'homemade',
            "export default { name: 'homemade', description: 'x', options: { safeParse: () => 42 }, requires: {}, run: async () => ({ verdicts: [], measurements: {}, events: [], timelines: [], notes: [] }) };\n",
          ),
        },
      },
      /suites\.homemade: its options are not a zod schema; write them with z from 'dbproof'/,
    ],
    [
      'a suite of its own without use',
      { 'orders-consistency': { budget: 3 } },
      /invalid suites\.orders-consistency: no suite named 'orders-consistency'; .*suites: \{ 'orders-consistency': \{ use: yourSuite \} \}/,
    ],
  ];
  test.each(cases)('%s', async (name, suites, message) => {
    const { file, results } = teamConfig(`bad-${name.replace(/\W+/g, '-')}`, suites);
    const result = await runCli(['gate', '--config', file], { cwd: project });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(existsSync(results)).toBe(false);
  });

  test("`dbproof test` names the team's suites beside dbproof's when a name is unknown", async () => {
    const { file } = teamConfig('unknown-name', { 'inspection-reads': { use: INSPECTION_READS } });
    const result = await runCli(['test', 'inspection-read', '--config', file], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(
      /^dbproof: no suite named 'inspection-read'; the suites are n-plus-one, .*, inspection-reads$/,
    );
  });
});

test('a team suite in the gate: its verdicts in summary.json, junit.xml, summary.md and report.html; failing it fails the gate', async () => {
  // The suite imported by the config, as a typed config does it.
  const passing = teamConfig('pass', {
    'inspection-reads': { use: { $import: INSPECTION_READS }, durationMs: 1500, budgets: { p99Ms: 5000 } },
  });
  const pass = await runCli(['gate', '--config', passing.file], { cwd: project });
  expect(pass.code, pass.stderr + pass.stdout).toBe(0);
  const runDir = path.join(passing.results, 'latest');
  const summary = await readRunResult(path.join(runDir, 'summary.json'));
  const suite = summary.suites.find((s) => s.suite === 'inspection-reads')!;
  expect(suite).toMatchObject({ pass: true });
  expect(suite.verdicts.map((v) => [v.budget.metric, v.pass])).toEqual([
    ['errors', true],
    ['p99', true],
  ]);
  expect(suite.measurements.requests).toBeGreaterThan(0);
  expect(suite.timelines).toHaveLength(1);
  expect(suite.notes[0]).toMatch(/^ids \d+–\d+ from the data set$/);
  expect(readFileSync(path.join(runDir, 'junit.xml'), 'utf8')).toMatch(/classname="suite inspection-reads"/);
  expect(readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toMatch(/inspection-reads/);
  expect(readFileSync(path.join(runDir, 'report.html'), 'utf8')).toMatch(/inspection-reads/);
  // The suite's own file, as dbproof's suites write theirs.
  expect(readdirSync(path.join(runDir, 'suites'))).toEqual([expect.stringMatching(/^inspection-reads--/)]);

  // The same suite on a read that does not exist: every request fails, and the verdict says so.
  const failing = teamConfig('fail', {
    'inspection-reads': { use: INSPECTION_READS, request: 'GET /inspections/{id}/nope', durationMs: 1000 },
  });
  const fail = await runCli(['test', 'inspection-reads', '--config', failing.file], { cwd: project });
  expect(fail.code, fail.stderr + fail.stdout).toBe(1);
  expect(fail.stdout).toMatch(/^FAIL inspection-reads$/m);
  const failed = (await readRunResult(path.join(failing.results, 'latest', 'summary.json'))).suites[0]!;
  const errors = failed.verdicts.find((v) => v.budget.metric === 'errors')!;
  expect(errors.pass).toBe(false);
  expect(errors.measured).toBe(failed.measurements.requests);
  expect(errors.evidence).toMatch(/404/);
});

test('a suite written as a class keeps its methods; what it returns is checked before it is recorded (one line, exit 2)', async () => {
  // run lives on the prototype: planning must not lose it. It returns a verdict with no budget.
  const use = suiteModule(
    'sloppy',
    `import { z } from 'dbproof';
class Sloppy {
  name = 'sloppy';
  description = 'returns what a suite must not';
  options = z.object({}).strict();
  async run() {
    return { verdicts: [{ claim: 'all is well', pass: true }], measurements: {}, events: [], timelines: [], notes: [] };
  }
}
export default new Sloppy();
`,
  );
  const { file, results } = teamConfig('class', { sloppy: { use } });
  const result = await runCli(['test', 'sloppy', '--config', file], { cwd: project });
  expect(result.code, result.stderr + result.stdout).toBe(2);
  expect(result.stderr.trim().split('\n').at(-1)).toMatch(
    /^dbproof: suite sloppy returned verdicts\.0\.budget: .*; return \{ verdicts \(made with judge\), measurements, events, timelines, notes \}$/,
  );
  expect(result.stdout).not.toMatch(/PASS/);
  expect(existsSync(results)).toBe(true);
});
