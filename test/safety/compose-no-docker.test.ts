// Without a Docker engine (or without the docker CLI), the compose provider says so in one
// line and exits 2: no stack trace, nothing written.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

const situations: [string, NodeJS.ProcessEnv, RegExp][] = [
  [
    'no engine answers',
    { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    /^dbproof: Docker is not reachable \(.*\); start the Docker engine .*or use --provider native$/,
  ],
  [
    'the docker CLI is not installed',
    { PATH: '/nonexistent' },
    /^dbproof: the docker CLI is not installed; install Docker .*or use --provider native$/,
  ],
];

describe.each(situations)('--provider compose when %s', (_, env, message) => {
  test('`dbproof status --provider compose`: one line saying so, exit 2', async () => {
    const state = tempDir('compose-nodocker');
    const result = await runCli(['status', '--provider', 'compose'], { env: { ...env, DBPROOF_STATE_DIR: state } });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(readdirSync(state)).toEqual([]);
  });

  test('`dbproof up --provider compose`: the same line, exit 2, nothing written', async () => {
    const state = tempDir('compose-nodocker');
    const result = await runCli(['up', '--provider', 'compose'], { env: { ...env, DBPROOF_STATE_DIR: state } });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(result.code).toBe(2);
    // The state folder's .gitignore (up's, written before any provider starts) at most: no state, no log.
    expect(readdirSync(state).filter((f) => f !== '.gitignore')).toEqual([]);
  });
});
