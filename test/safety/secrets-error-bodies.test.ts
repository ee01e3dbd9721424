// An app whose error answers echo its DATABASE_URL (and the password in other forms): a
// suite keeps the last error as evidence, and neither the lines `gate` and `test` print
// nor any file of the run (summary.json, junit.xml, summary.md, report.html, the suite's
// JSON) may carry the password.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ECHO_APP = path.join(ROOT, 'test/apps/echo-secrets-app.ts');
const dir = tempDir('secrets');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

/** A config whose app echoes its credentials in every 500; the password it was given lands in `<name>.password`. */
// The machine is not watched in these tests (noise.monitor false): they assert FAILs on purpose, which a
// busy machine must not turn INCONCLUSIVE; test/run/noise-judging.test.ts covers judging with the noise in view.
function config(name: string): { file: string; resultsDir: string; passwordFile: string } {
  const file = path.join(dir, `${name}.config.ts`);
  const resultsDir = path.join(dir, `${name}-results`);
  const passwordFile = path.join(dir, `${name}.password`);
  const app = {
    name: 'echo app',
    command: `node --import tsx ${JSON.stringify(ECHO_APP)}`,
    cwd: ROOT,
    env: { ECHO_APP_RECORD: passwordFile },
  };
  // Every read answers 500: the suite's verdicts fail with the last error body as evidence.
  const suites = {
    'replica-lost': { read: 'GET /inspections', rate: 20, durationMs: 2500, faultAtMs: 500, faultForMs: 1000 },
  };
  writeFileSync(
    file,
    `export default ${JSON.stringify({ app, topology: { replicas: 1 }, dataset: false, suites, results: { dir: resultsDir }, noise: { monitor: false } }, null, 2)};\n`,
  );
  return { file, resultsDir, passwordFile };
}

/** Every file under `root`, with its text. */
function filesUnder(root: string): [string, string][] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .map((file) => [path.relative(root, file), readFileSync(file, 'utf8')]);
}

function expectNoPassword(password: string, output: string, resultsDir: string): void {
  expect(password.length).toBeGreaterThanOrEqual(16);
  expect(output.includes(password), 'the password is in the output').toBe(false);
  const files = filesUnder(resultsDir);
  const names = files.map(([name]) => path.basename(name));
  for (const written of ['summary.json', 'junit.xml', 'summary.md', 'report.html', 'replica-lost--echo-app.json'])
    expect(names).toContain(written);
  for (const [name, text] of files) expect(text.includes(password), `the password is in ${name}`).toBe(false);
}

test('gate: the failing verdict keeps the error body as evidence, with every form of the password hidden', async () => {
  const { file, resultsDir, passwordFile } = config('gate');
  const result = await runCli(['gate', '--config', file]);
  expect(result.code, result.stderr + result.stdout).toBe(1);
  const password = readFileSync(passwordFile, 'utf8');
  expectNoPassword(password, result.stdout + result.stderr, resultsDir);
  // The evidence is still there, readable: only the secrets are masked.
  expect(result.stdout).toMatch(
    /last error: GET \/inspections: HTTP 500 .*could not connect to postgres:\/\/app:\*\*\*@127\.0\.0\.1/,
  );
  expect(readFileSync(path.join(resultsDir, 'latest', 'summary.json'), 'utf8')).toMatch(/password=\*\*\*/);
}, 180_000);

test('test --json: the printed suites carry no password either', async () => {
  const { file, resultsDir, passwordFile } = config('test');
  const result = await runCli(['test', '--config', file, '--json']);
  expect(result.code, result.stderr + result.stdout).toBe(1);
  const password = readFileSync(passwordFile, 'utf8');
  expectNoPassword(password, result.stdout + result.stderr, resultsDir);
  expect(result.stdout).toMatch(/PGPASSWORD.*\*\*\*/);
}, 180_000);
