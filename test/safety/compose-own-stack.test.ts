// The compose provider starts a stack of its own (dbproof's compose file, project
// dbproof-<id>) and removes only that: a user's compose project, in the working directory
// or in the project Compose names after dbproof's own directory, is never brought up,
// registered with the watchdog or removed, on success, on failure or when dbproof is killed.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli, startCli, BIN } from '../support/cli.ts';
import { dockerForTests, skipWithoutEngine, resourcesPublishing } from '../support/docker.ts';
import { tempDir } from '../support/temp.ts';
import {
  bystanderContainer,
  compose,
  containerLabel,
  containerState,
  containersFromImage,
  imageAlias,
  imageWithoutShell,
  marker,
  projectNameOf,
  projectResources,
  ROOT,
} from './compose-support.ts';
import { holdRepoComposeAround } from '../support/repo-compose.ts';

const engine = dockerForTests('the compose provider safety tests');
const image = () => process.env.DBPROOF_REDIS_IMAGE ?? 'redis:7';

describe('the compose provider leaves what it did not create alone', skipWithoutEngine(engine), () => {
  // Its tests run dbproof from the repository, where the repository's own stack would be attached to.
  holdRepoComposeAround();
  const userProjects: string[] = [];
  afterAll(async () => {
    for (const dir of userProjects) await compose(dir, ['down', '-v', '-t', '1']).catch(() => {});
  }, 120_000);

  test("`dbproof up --provider compose` in a directory with the user's own docker-compose.yml starts dbproof's stack and leaves the user's running", async () => {
    const dir = path.join(tempDir('compose-user'), `shop${Date.now().toString(36)}`);
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'docker-compose.yml'),
      `services:\n  db:\n    image: ${image()}\n    command: ["sleep", "infinity"]\n`,
    );
    await compose(dir, ['up', '-d']);
    userProjects.push(dir);
    const [users] = projectResources(projectNameOf(dir));
    expect(containerState(users!)).toBe('running');

    const mark = marker();
    const started = await startCli(['up', '--provider', 'compose', '--json'], {
      cwd: dir,
      env: { DBPROOF_STATE_DIR: tempDir('compose-user-state'), ...mark.env },
    }).catch((error: Error) => error);
    let ports: number[] = [];
    if (!(started instanceof Error)) {
      const up = JSON.parse(started.firstLine) as { primary: string; replicas: string[]; redis: string };
      ports = [up.primary, ...up.replicas, up.redis].map((u) => Number(new URL(u).port));
      started.child.kill('SIGINT');
    }
    expect(await mark.gone()).toEqual([]);
    expect(containerState(users!)).toBe('running');
    expect(started).not.toBeInstanceOf(Error);
    expect(ports).toHaveLength(4);
    expect(resourcesPublishing(ports).containers).toEqual([]);
  }, 300_000);

  test("a container in the project named after dbproof's directory is neither registered nor removed", async () => {
    const sidecar = bystanderContainer(image(), {
      'com.docker.compose.project': projectNameOf(ROOT),
      'com.docker.compose.project.working_dir': ROOT,
      'com.docker.compose.service': 'sidecar',
    });
    const mark = marker();
    const result = await runCli(['exec', '--provider', 'compose', '--', 'true'], {
      cwd: ROOT,
      env: { DBPROOF_STATE_DIR: tempDir('compose-sidecar-state'), ...mark.env },
    });
    expect(await mark.gone()).toEqual([]);
    expect(containerState(sidecar)).toBe('running');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 300_000);

  test('a stack that fails to start after its containers exist is removed, and the error names its project', async () => {
    const broken = imageWithoutShell();
    const redis = imageAlias(image(), 'compose-redis');
    const mark = marker();
    // Twice in about ten full runs (never alone) this `up` had not ended when the test's 300 s
    // ran out, and nothing said where it was: after 150 s the test fails naming the processes
    // the run still has (Compose's command, the CLI, its watchdog) instead.
    let stuck: NodeJS.Timeout | undefined;
    let wasStuck = false;
    const result = await Promise.race([
      runCli(['up', '--provider', 'compose'], {
        cwd: ROOT,
        env: {
          DBPROOF_STATE_DIR: tempDir('compose-broken-state'),
          DBPROOF_PG_IMAGE: broken,
          DBPROOF_REDIS_IMAGE: redis,
          ...mark.env,
        },
      }),
      new Promise<never>((_, reject) => {
        stuck = setTimeout(() => {
          wasStuck = true;
          reject(new Error(`\`dbproof up\` still running after 150 s:\n${mark.running().join('\n')}`));
        }, 150_000);
      }),
    ]).finally(async () => {
      clearTimeout(stuck);
      // A stuck run is never left behind: told to stop (it removes what it made), then killed.
      if (!wasStuck) return;
      mark.signal('SIGINT');
      if ((await mark.gone(30_000)).length > 0) mark.signal('SIGKILL');
    });
    expect(await mark.gone()).toEqual([]);
    expect([...containersFromImage(broken), ...containersFromImage(redis)]).toEqual([]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const project = /dbproof-[0-9a-f]{8}/.exec(result.stderr)?.[0];
    expect(project).toBeDefined();
    expect(projectResources(project!)).toEqual([]);
  }, 300_000);

  test('a stack whose `dbproof up` is SIGKILLed while Compose is still creating it is removed', async () => {
    const postgres = imageAlias(process.env.DBPROOF_PG_IMAGE ?? 'postgres:15', 'compose-pg');
    const mark = marker();
    const child = spawn(process.execPath, [BIN, 'up', '--provider', 'compose'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DBPROOF_STATE_DIR: tempDir('compose-kill-state'),
        DBPROOF_PG_IMAGE: postgres,
        ...mark.env,
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The primary exists; the replicas are created only once it is healthy.
    const deadline = Date.now() + 120_000;
    while (containersFromImage(postgres).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const seen = containersFromImage(postgres);
    expect(seen.length).toBeGreaterThan(0);
    const project = containerLabel(seen[0]!, 'com.docker.compose.project');
    child.kill('SIGKILL');
    await exited;
    expect(await mark.gone()).toEqual([]);
    expect(containersFromImage(postgres)).toEqual([]);
    // The replicas and Redis too, whether Compose had created them yet or not, and the network.
    expect(projectResources(project)).toEqual([]);
  }, 300_000);
});
