// The layer check of `npm test` (.dependency-cruiser.cjs) is real: run on a small tree of
// deliberate mistakes (test/layers-fixture/), it refuses a backwards import and a module
// no layer names, each with a message naming its rule, and lets a type-only import pass.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEPCRUISE = fileURLToPath(
  new URL('../../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url),
);

async function cruise(cwd: string, paths: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [DEPCRUISE, ...paths, '--config', `${ROOT}.dependency-cruiser.cjs`, '--output-type', 'err'],
      { cwd },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

test('a backwards import and a module without a layer fail the check, each naming its rule', {
  timeout: 60_000,
}, async () => {
  const { code, output } = await cruise(`${ROOT}test/layers-fixture`, ['harness']);
  expect(code).not.toBe(0);
  expect(output).toContain('error base-imports-no-layer-above: harness/pg/backwards.ts → harness/run/plan.ts');
  expect(output).toContain('error every-module-has-a-layer: harness/somewhere/unplaced.ts → harness/run/plan.ts');
  // The type-only import from a layer above (harness/topology/typed.ts) is allowed.
  expect(output).not.toContain('typed.ts');
  expect(output).toMatch(/2 dependency violations/);
});

test("dbproof's own tree passes it", { timeout: 60_000 }, async () => {
  const { code, output } = await cruise(ROOT, ['harness', 'fixtures', 'load', 'suites', 'bin']);
  expect(output).toMatch(/no dependency violations found/);
  expect(code).toBe(0);
});
