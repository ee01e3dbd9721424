import { expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';

const PRINT_ENV = `
const pg = require('pg');
(async () => {
  const urls = { primary: process.env.DATABASE_URL, replicas: process.env.DATABASE_REPLICA_URLS.split(','), redis: process.env.REDIS_URL, admin: process.env.DBPROOF_ADMIN_URL };
  const client = new pg.Client(urls.replicas[1]);
  await client.connect();
  const { rows } = await client.query('SELECT pg_is_in_recovery() AS standby');
  await client.end();
  console.log(JSON.stringify({ ...urls, standby: rows[0].standby }));
  process.exit(7);
})();`;

test('exec hands the topology to the command and exits with its status', async () => {
  const result = await runCli(['exec', '--replicas', '2', '--', process.execPath, '-e', PRINT_ENV]);
  expect(result.code).toBe(7);
  const seen = JSON.parse(result.stdout.trim()) as {
    primary: string;
    replicas: string[];
    redis: string;
    admin: string;
    standby: boolean;
  };
  expect(new URL(seen.primary).username).toBe('app');
  expect(seen.replicas).toHaveLength(2);
  expect(seen.redis).toMatch(/^redis:\/\/:.+@127\.0\.0\.1:\d+/);
  expect(new URL(seen.admin).username).toBe('dbproof');
  expect(seen.standby).toBe(true);
  // Torn down: nothing listens on the ports any more.
  const ports = [seen.primary, ...seen.replicas, seen.redis].map((u) => Number(new URL(u).port));
  const { default: net } = await import('node:net');
  for (const port of ports) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }
});

test('exec --no-redis leaves REDIS_URL unset', async () => {
  const result = await runCli([
    'exec',
    '--replicas',
    '0',
    '--no-redis',
    '--',
    'sh',
    '-c',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, for the shell to read
    'echo "redis=${REDIS_URL:-unset} replicas=[$DATABASE_REPLICA_URLS]"',
  ]);
  expect(result.code).toBe(0);
  expect(result.stdout.trim()).toBe('redis=unset replicas=[]');
});

test('exec of a command that does not exist is refused (exit 2, one line) before a topology starts', async () => {
  const result = await runCli(['exec', '--replicas', '0', '--no-redis', '--', 'dbproof-no-such-command']);
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe(
    'dbproof: exec: command not found on PATH: dbproof-no-such-command; install it, or give its path',
  );
});
