import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestOptions } from 'vitest';
import { type SkipReason, skipUnless } from './skips.ts';

/**
 * Where no registry is reachable, the images come from scripts/build-local-images.sh:
 * use them when they exist and no image was chosen.
 */
function preferLocalImages(): void {
  const has = (tag: string) => {
    try {
      execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  };
  if (!process.env.DBPROOF_PG_IMAGE && has('dbproof-local/postgres:15'))
    process.env.DBPROOF_PG_IMAGE = 'dbproof-local/postgres:15';
  if (!process.env.DBPROOF_REDIS_IMAGE && has('dbproof-local/redis:7'))
    process.env.DBPROOF_REDIS_IMAGE = 'dbproof-local/redis:7';
}

/** Whether a Docker engine answers here (the containers and compose providers need one). */
export function dockerEngineAnswers(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    preferLocalImages();
    return true;
  } catch {
    return false;
  }
}

/** Why the Docker tests are skipped where no engine answers, and what runs them: the end-of-run banner counts them by it. */
export const NO_DOCKER_ENGINE: SkipReason = {
  reason: 'no Docker engine answers on this machine (the containers and compose providers need one)',
  toRunIt: 'start one (`./scripts/install.sh --with-docker` installs and starts it), then `npm test` again',
};

/**
 * Whether the Docker tests of a file can run. Without an engine they are skipped (pass
 * `skipWithoutEngine(engine)` to their describe), and the banner at the end of the run
 * counts them; but where DBPROOF_REQUIRE_DOCKER=1 (as .ci/run sets it) a missing engine
 * fails the file: a CI run must never go green because the tests that would have failed
 * did not run.
 */
export function dockerForTests(what: string): boolean {
  if (dockerEngineAnswers()) return true;
  if (process.env.DBPROOF_REQUIRE_DOCKER === '1')
    throw new Error(
      `DBPROOF_REQUIRE_DOCKER=1 but ${what}: no Docker engine answers on this machine (./scripts/install.sh --with-docker installs and starts one)`,
    );
  return false;
}

/** A describe's or a test's options: skipped, saying why, where no Docker engine answers. */
export function skipWithoutEngine(engine: boolean): TestOptions {
  return skipUnless(engine, NO_DOCKER_ENGINE);
}

export function dockerLines(args: string[]): string[] {
  // Bounded: a busy engine fails the test naming the command instead of blocking its worker.
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 120_000 }).split('\n').filter(Boolean);
}

export interface DockerResources {
  containers: string[];
  networks: string[];
}

/** The containers publishing these host ports, and their networks (Docker's default ones left out). */
export function resourcesPublishing(ports: number[]): DockerResources {
  const containers = [
    ...new Set(ports.flatMap((port) => dockerLines(['ps', '-aq', '--no-trunc', '--filter', `publish=${port}`]))),
  ];
  return { containers, networks: networksOf(containers) };
}

export function networksOf(containers: string[]): string[] {
  if (containers.length === 0) return [];
  const defaults = new Set(dockerLines(['network', 'ls', '-q', '--no-trunc', '--filter', 'name=^(bridge|host|none)$']));
  const ids = dockerLines([
    'inspect',
    '-f',
    '{{range $name, $net := .NetworkSettings.Networks}}{{$net.NetworkID}}\n{{end}}',
    ...containers,
  ]);
  return [...new Set(ids.map((id) => id.trim()).filter((id) => id && !defaults.has(id)))];
}

/** Which of `resources` still exist. */
export function stillPresent(resources: DockerResources): string[] {
  const containers = new Set(dockerLines(['ps', '-aq', '--no-trunc']));
  const networks = new Set(dockerLines(['network', 'ls', '-q', '--no-trunc']));
  return [
    ...resources.containers.filter((id) => containers.has(id)),
    ...resources.networks.filter((id) => networks.has(id)),
  ];
}

/**
 * A user's image made from `base` by a shell command run in it (`rm -f /usr/bin/pgbackrest`),
 * committed with `changes` (`LABEL …=`), tagged `dbproof-test/<what>:<random>`: the caller's
 * own, removed with `removeImage`.
 */
export function deriveImage(base: string, what: string, command: string, changes: string[] = []): string {
  const tag = `dbproof-test/${what}:${randomBytes(4).toString('hex')}`;
  const maker = `dbproof-test-${what}-${randomBytes(4).toString('hex')}`;
  const docker = (...args: string[]) => execFileSync('docker', args, { stdio: 'ignore' });
  try {
    docker('run', '--name', maker, '--network', 'none', '--entrypoint', 'sh', base, '-c', command);
    docker('commit', ...changes.flatMap((change) => ['--change', change]), maker, tag);
  } finally {
    docker('rm', '-f', maker);
  }
  return tag;
}

/** Removes an image `deriveImage` made (nothing when undefined or already gone). */
export function removeImage(tag: string | undefined): void {
  if (!tag) return;
  try {
    execFileSync('docker', ['image', 'rm', tag], { stdio: 'ignore' });
  } catch {}
}
