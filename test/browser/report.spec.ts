// report.html in a real browser: a real `dbproof gate` run (an N+1 endpoint, a replica
// killed under load, a weighted mix) writes it; Chromium opens the file and finds the
// budgets table, the charts and the N+1 finding, with no console error and nothing
// fetched from anywhere (the page is one self-contained file).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import type { RunResult } from '../../harness/results/run-result.ts';
import { exampleAppCommand } from '../../example/launch.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let run: RunResult;
let report: string;

test.beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dbproof-report-'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  const config = {
    topology: { replicas: 1 },
    app: {
      name: 'reference app',
      command: exampleAppCommand(),
      cwd: ROOT,
    },
    dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
    results: { dir: path.join(dir, 'results') },
    suites: {
      'n-plus-one': { endpoints: ['GET /inspections?limit={K}', 'GET /inspections-joined?limit={K}'] },
      'replica-lost': { durationMs: 4000, faultForMs: 2500 },
    },
    scenarios: {
      browse: {
        mix: [
          { request: 'GET /inspections/{id}', weight: 3, budgets: 'p99=2s' },
          { request: 'GET /inspections-joined?limit=5', weight: 1 },
        ],
        ids: { from: 1, to: 50 },
        rate: 50,
        durationMs: 2000,
        warmupMs: 200,
        budgets: 'errors=1%',
      },
    },
  };
  writeFileSync(path.join(dir, 'dbproof.config.ts'), `export default ${JSON.stringify(config, null, 2)};\n`);
  const gate = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bin/dbproof.js'), 'gate', '--config', path.join(dir, 'dbproof.config.ts')],
    { encoding: 'utf8', timeout: 150_000 },
  );
  // The N+1 endpoint breaks its budget: the gate fails, and says so in the report.
  expect(gate.status, gate.stderr + gate.stdout).toBe(1);
  const runDir = path.join(dir, 'results', 'latest');
  run = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunResult;
  report = path.join(runDir, 'report.html');
});

test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the report opens with no console error and fetches nothing', async ({ page }) => {
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
  expect(problems).toEqual([]);
  expect(requests).toEqual([pathToFileURL(report).href]);
  await expect(page).toHaveTitle(/^dbproof .*: FAIL$/);
  await expect(page.locator('#status')).toContainText(
    `FAIL: ${run.verdicts.filter((v) => v.pass).length} of ${run.verdicts.length} budgets hold`,
  );
});

test('the budgets table has a row per verdict, failures marked, each with its measured value and margin', async ({
  page,
}) => {
  await page.goto(pathToFileURL(report).href);
  const rows = page.locator('#budgets tbody tr');
  await expect(rows).toHaveCount(run.verdicts.length);
  await expect(page.locator('#budgets tbody tr.fail')).toHaveCount(run.verdicts.filter((v) => !v.pass).length);
  const failed = page.locator('#budgets tbody tr.fail').first();
  await expect(failed).toContainText('GET /inspections?limit={K} runs no query per item (N+1)');
  await expect(failed.locator('td').nth(4)).toHaveText('1');
  // Per-endpoint budgets of the mix are rows of their own, scoped to the endpoint.
  await expect(rows.filter({ hasText: 'p99Ms <= 2000 ms' })).toContainText('GET /inspections/{id}');
});

test('the N+1 finding names the endpoint, the statement, its counts per size and the fix', async ({ page }) => {
  await page.goto(pathToFileURL(report).href);
  const finding = page.locator('#n1-findings tbody tr');
  await expect(finding).toHaveCount(1);
  await expect(finding).toContainText('GET /inspections?limit={K}');
  await expect(finding).toContainText('SELECT name FROM inspectors WHERE id = $1');
  await expect(finding).toContainText('5 → 5');
  await expect(finding).toContainText('25 → 25');
  // summary.json has the same finding in its flat list, with its source.
  expect(run.findings).toEqual([
    expect.objectContaining({
      source: 'suite n-plus-one',
      operation: 'GET /inspections?limit={K}',
      exampleSql: 'SELECT name FROM inspectors WHERE id = $1',
    }),
  ]);
});

test('each load has a latency histogram, percentile curves and a per-100 ms timeline, drawn', async ({ page }) => {
  await page.goto(pathToFileURL(report).href);
  const load = page.locator('section.load[data-load="browse"]');
  await expect(load.locator('table.load-figures tbody tr')).toHaveCount(3); // the mix, then each endpoint
  await expect(load.locator('figure[data-chart="histogram"] rect.bar').first()).toBeVisible();
  // One curve for the mix, one per endpoint.
  await expect(load.locator('figure[data-chart="percentiles"] polyline')).toHaveCount(3);
  // 100 requests say nothing beyond p99: the curve stops there, and says so.
  await expect(load.locator('figure[data-chart="percentiles"]').first()).toContainText(
    '100 requests: nothing beyond p99 (max',
  );
  const timeline = load.locator('figure[data-chart="timeline"] polyline.p99');
  await expect(timeline).toHaveCount(1);
  // 2 s in 100 ms buckets: 20 points on the p99 line.
  expect((await timeline.getAttribute('points'))!.trim().split(/\s+/)).toHaveLength(20);
  const box = await load.locator('figure[data-chart="histogram"] svg').boundingBox();
  expect(box!.width).toBeGreaterThan(100);
  expect(box!.height).toBeGreaterThan(100);
});

test("a suite's timeline marks its fault events at their time", async ({ page }) => {
  await page.goto(pathToFileURL(report).href);
  const suite = page.locator('section.suite[data-suite="replica-lost"]');
  await expect(suite.locator('figure[data-chart="timeline"]')).toHaveCount(
    run.suites.find((s) => s.suite === 'replica-lost')!.timelines.length,
  );
  const events = run.suites.find((s) => s.suite === 'replica-lost')!.events;
  expect(events.length).toBeGreaterThan(0);
  await expect(suite.locator('figure[data-chart="timeline"]').first().locator('g.event')).toHaveCount(events.length);
  await expect(suite.locator('g.event text').first()).toContainText(`${events[0]!.kind} ${events[0]!.target}`);
  await expect(suite.locator('table.events tbody tr')).toHaveCount(events.length);
});

test('the machine is drawn beside each load and suite: probe lateness per bucket, the engine send lateness, the evidence', async ({
  page,
}) => {
  await page.goto(pathToFileURL(report).href);
  const load = page.locator('section.load[data-load="browse"]');
  const machine = load.locator('figure[data-chart="noise"]');
  await expect(machine).toHaveCount(1);
  const browse = run.loads.find((l) => l.name === 'browse')!;
  // One point per bucket the probe was measured in.
  const measured = browse.noise!.buckets.filter((b) => b.probeP99Ms !== null).length;
  expect((await machine.locator('polyline.probe-p99').getAttribute('points'))!.trim().split(/\s+/)).toHaveLength(
    measured,
  );
  await expect(machine.locator('polyline.engine-late')).toHaveCount(1);
  await expect(load.locator('p.muted').first()).toContainText(`machine: ${browse.noise!.summary.evidence}`);
  const suite = page.locator('section.suite[data-suite="replica-lost"]');
  await expect(suite.locator('figure[data-chart="noise"] polyline.probe-max')).toHaveCount(1);
});
