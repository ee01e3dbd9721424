// Config files for the reference app (example/main.ts), as the gate and run tests write them:
// a small data set, a results folder of the test's own, and the machine not watched unless
// a test asks (a test that asserts a FAIL on purpose must not see a busy machine turn it
// INCONCLUSIVE; test/run/noise-judging.test.ts judges with the noise in view).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleAppCommand } from '../../example/launch.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ReferenceConfigOptions {
  /** The app's environment, e.g. `{ EXAMPLE_NAIVE: '1' }`. */
  env?: Record<string, string>;
  /** The results folder (default `<dir>/<name>-results`). */
  results?: string;
  /** Leaves `noise` to the body (default: `noise: { monitor: false }` unless the body sets it). */
  watchMachine?: boolean;
  /** Writes `<name>.config.ts` instead: for a config that will import the team's TypeScript (its own suites). */
  typescript?: boolean;
}

/**
 * Writes `<dir>/<name>.config.mjs` for the reference app with `body` (suites, scenarios, …)
 * spread in last. JavaScript, not TypeScript: the body is plain data, and a .ts config makes
 * each dbproof process register tsx's loader (a thread of its own, about 0.4 s of CPU), some
 * 60 times per test run. Loading a .ts config is tested where it is the point (init, adoption,
 * the bad-input table).
 */
export function writeReferenceConfig(
  dir: string,
  name: string,
  body: object,
  options: ReferenceConfigOptions = {},
): { file: string; results: string } {
  const file = path.join(dir, `${name}.config.${options.typescript ? 'ts' : 'mjs'}`);
  const results = options.results ?? path.join(dir, `${name}-results`);
  const app = {
    name: 'reference app',
    command: exampleAppCommand(),
    cwd: ROOT,
    ...(options.env ? { env: options.env } : {}),
  };
  const config = {
    app,
    dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
    results: { dir: results },
    ...(options.watchMachine ? {} : { noise: { monitor: false } }),
    ...body,
  };
  writeFileSync(file, `export default ${JSON.stringify(config, null, 2)};\n`);
  return { file, results };
}

/** replica-lost, shortened: a quick suite that passes on the reference app. */
export const quickSuite = { 'replica-lost': { durationMs: 5500, faultForMs: 3500 } };

/** A short open-model scenario on `GET /inspections/{id}` with these budgets. */
export const byIdScenario = (budgets: string) => ({
  'by-id': {
    request: 'GET /inspections/{id}',
    ids: { from: 1, to: 80 },
    rate: 50,
    durationMs: 2000,
    warmupMs: 500,
    budgets,
  },
});
