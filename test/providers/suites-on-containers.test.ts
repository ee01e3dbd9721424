// The failover suites on the containers provider: the same `dbproof test` as on native
// processes, with the nodes in Docker (kill = docker kill, pause = docker pause, lag by
// cutting the replicas from the topology network, promotion by SQL, the writer endpoint
// re-pointed to the promoted container's published port).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { dockerForTests, skipWithoutEngine } from '../support/docker.ts';
import { tempDir } from '../support/temp.ts';
import { exampleAppCommand } from '../../example/launch.ts';

const engine = dockerForTests('the suites on the containers provider');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('suites-containers');
writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');

function config(name: string, env: Record<string, string>, synchronous = false): string {
  const file = path.join(dir, `${name}.config.ts`);
  const body = {
    topology: { replicas: 1, redis: false, synchronous },
    dataset: { profile: 'inspections', scale: 0.002, seed: 5 },
    app: {
      name: 'reference app',
      command: exampleAppCommand(),
      cwd: ROOT,
      env,
    },
    suites: {
      'replica-frozen': { durationMs: 5500, faultForMs: 3500 },
      'replica-lag': { lagBy: 'disconnect', durationMs: 4000, lagForMs: 2000 },
      'primary-lost': { durationMs: 5000 },
    },
    results: { dir: path.join(dir, 'results') },
    // Not watched: these tests assert FAILs on purpose, which a busy machine must not turn INCONCLUSIVE.
    noise: { monitor: false },
  };
  writeFileSync(file, `export default ${JSON.stringify(body, null, 2)};\n`);
  return file;
}

type Output = {
  pass: boolean;
  suites: {
    suite: string;
    pass: boolean;
    events: { kind: string }[];
    verdicts: { pass: boolean; budget: { metric: string } }[];
  }[];
};

describe('suites on the containers provider', skipWithoutEngine(engine), () => {
  test('the reference app keeps the frozen-replica and lag (network partition) promises', async () => {
    const result = await runCli([
      'test',
      'replica-frozen',
      'replica-lag',
      '--provider',
      'containers',
      '--config',
      config('good', {}),
      '--json',
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const output = JSON.parse(result.stdout) as Output;
    expect(output.suites.map((s) => [s.suite, s.pass])).toEqual([
      ['replica-frozen', true],
      ['replica-lag', true],
    ]);
    expect(output.suites[1]!.events.map((e) => e.kind)).toEqual(['disconnect', 'reconnect']);
  }, 240_000);

  test('with synchronous replication, a primary lost under writes loses no acknowledged write', async () => {
    const result = await runCli([
      'test',
      'primary-lost',
      '--provider',
      'containers',
      '--config',
      config('sync', {}, true),
      '--json',
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect((JSON.parse(result.stdout) as Output).suites[0]!.events.map((e) => e.kind)).toEqual([
      'pause',
      'kill',
      'promote',
    ]);
  }, 240_000);

  test('with synchronous replication and the replicas cut off, no write commits: the lag suite says it tested nothing', async () => {
    const result = await runCli([
      'test',
      'replica-lag',
      '--provider',
      'containers',
      '--config',
      config('sync-lag', {}, true),
      '--json',
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(1);
    const verdict = (JSON.parse(result.stdout) as Output).suites[0]!.verdicts.find(
      (v) => v.budget.metric === 'writesDuringLag',
    )!;
    expect(verdict.pass).toBe(false);
  }, 240_000);

  test('the naive reference app fails the frozen-replica and lag suites there too', async () => {
    const result = await runCli([
      'test',
      'replica-frozen',
      'replica-lag',
      '--provider',
      'containers',
      '--config',
      config('naive', { EXAMPLE_NAIVE: '1' }),
      '--json',
    ]);
    expect(result.code, result.stderr + result.stdout).toBe(1);
    const output = JSON.parse(result.stdout) as Output;
    expect(output.suites.map((s) => [s.suite, s.pass])).toEqual([
      ['replica-frozen', false],
      ['replica-lag', false],
    ]);
  }, 240_000);
});

test('the lag by network partition is refused on native processes, before anything starts', async () => {
  const result = await runCli(['test', 'replica-lag', '--config', config('native-partition', {})]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/lagBy: 'disconnect' needs the containers provider/);
});
