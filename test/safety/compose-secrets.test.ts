// A compose stack dbproof started: its passwords are in no command line (Redis' server
// and health check), its Postgres accepts TCP logins from the topology's network only,
// and `dbproof status --provider compose` finds it with its passwords (kept in the state
// file, which only this user can read).
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { dockerForTests, skipWithoutEngine, networksOf, resourcesPublishing } from '../support/docker.ts';
import { tempDir } from '../support/temp.ts';
import { containerLabel, marker } from './compose-support.ts';
import { holdRepoComposeAround } from '../support/repo-compose.ts';

const engine = dockerForTests('the compose secrets tests');

interface Up {
  primary: string;
  replicas: string[];
  redis: string;
}

describe('a compose stack started by `dbproof up --provider compose --detach`', skipWithoutEngine(engine), () => {
  // Its `up` runs from the repository, where the repository's own stack would be attached to.
  holdRepoComposeAround();
  const env = { DBPROOF_STATE_DIR: tempDir('compose-secrets-state') };
  const mark = marker();
  let up: Up;
  let byService: Map<string, string>;

  beforeAll(async () => {
    const result = await runCli(['up', '--provider', 'compose', '--detach', '--json'], {
      env: { ...env, ...mark.env },
    });
    expect(result.stderr).toBe('');
    up = JSON.parse(result.stdout) as Up;
    const { containers } = resourcesPublishing(
      [up.primary, ...up.replicas, up.redis].map((u) => Number(new URL(u).port)),
    );
    byService = new Map(containers.map((id) => [containerLabel(id, 'com.docker.compose.service'), id]));
  }, 300_000);
  afterAll(async () => {
    await runCli(['down'], { env });
    expect(await mark.gone()).toEqual([]);
  }, 120_000);

  test('`dbproof status --provider compose` reports it, with the passwords from the state file (0600)', async () => {
    const status = await runCli(['status', '--provider', 'compose', '--json'], { env });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      provider: string;
      nodes: { name: string; up: boolean; port: number }[];
    };
    expect(report.provider).toBe('compose');
    expect(report.nodes.map((n) => [n.name, n.up])).toEqual([
      ['primary', true],
      ['replica1', true],
      ['replica2', true],
      ['redis', true],
    ]);
    expect(statSync(`${env.DBPROOF_STATE_DIR}/state.json`).mode & 0o077).toBe(0);
  });

  test("Redis' password is in neither the server's nor the health check's command line", () => {
    const redis = byService.get('redis')!;
    const password = decodeURIComponent(new URL(up.redis).password);
    const config = execFileSync(
      'docker',
      ['inspect', '-f', '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.Healthcheck.Test}}', redis],
      { encoding: 'utf8' },
    );
    expect(config).not.toContain(password);
    // The health check as Docker runs it, with a redis-cli that records what it was given.
    const [kind, check] = JSON.parse(
      execFileSync('docker', ['inspect', '-f', '{{json .Config.Healthcheck.Test}}', redis], { encoding: 'utf8' }),
    ) as [string, string];
    expect(kind).toBe('CMD-SHELL');
    const fake =
      'mkdir -p /tmp/fake && printf \'#!/bin/sh\\necho "argv: $*" >> /tmp/fake/seen\\necho "auth: $REDISCLI_AUTH" >> /tmp/fake/seen\\necho PONG\\n\' > /tmp/fake/redis-cli && chmod +x /tmp/fake/redis-cli';
    const seen = execFileSync(
      'docker',
      [
        'exec',
        redis,
        'sh',
        '-c',
        `${fake} && PATH=/tmp/fake:$PATH sh -c "$1" >/dev/null; cat /tmp/fake/seen; rm -rf /tmp/fake`,
        'check',
        check,
      ],
      { encoding: 'utf8' },
    );
    expect(seen).toContain('argv: ');
    expect(seen.split('\n').find((l) => l.startsWith('argv: '))).not.toContain(password);
    expect(seen).toContain(`auth: ${password}`);
    // And the real check passes: Docker calls the container healthy.
    expect(
      execFileSync('docker', ['inspect', '-f', '{{.State.Health.Status}}', redis], { encoding: 'utf8' }).trim(),
    ).toBe('healthy');
  });

  test("Postgres takes TCP logins from the topology's network only, not from any address", () => {
    const primary = byService.get('primary')!;
    const [network] = networksOf([primary]);
    const subnet = execFileSync(
      'docker',
      ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', network!],
      { encoding: 'utf8' },
    ).trim();
    // The file the server reads, wherever its data directory is (an image may have it baked in).
    const hba = execFileSync(
      'docker',
      [
        'exec',
        '-u',
        'postgres',
        primary,
        'sh',
        '-c',
        'cat "$(psql -h /run/dbproof -U dbproof -d postgres -Atc "SHOW hba_file")"',
      ],
      { encoding: 'utf8' },
    );
    const hostLines = hba.split('\n').filter((l) => /^host\s/.test(l));
    expect(hostLines.length).toBeGreaterThan(0);
    for (const line of hostLines) expect(line.split(/\s+/)[3]).not.toBe('all');
    expect(hostLines.some((l) => l.split(/\s+/)[3] === subnet)).toBe(true);
  });
});
