// Issue 18: `app.instances: N` starts N copies of the app, each on a port of its own with the
// same topology URLs; one instance is the app as before; a copy that fails takes the others down.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { startApp } from '../../harness/app/index.ts';
import { resolveConfig } from '../../harness/config/read.ts';
import { InfrastructureError } from '../../harness/errors.ts';
import { tempDir } from '../support/temp.ts';

const urls = { primary: 'postgres://x@127.0.0.1:1/app', replicas: ['postgres://x@127.0.0.1:2/app'], redis: undefined };

// An app that answers every path with its pid and the URLs it was given.
const SERVER = `require('node:http').createServer((q, s) => s.end(JSON.stringify({ pid: process.pid, primary: process.env.DATABASE_URL, replicas: process.env.DATABASE_REPLICA_URLS }))).listen(Number(process.env.PORT), '127.0.0.1')`;
const command = `exec ${process.execPath} -e "${SERVER}"`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const answer = async (url: string) =>
  (await (await fetch(`${url}/health`)).json()) as { pid: number; primary: string; replicas: string };

describe('app.instances', () => {
  test('three instances: three ports, three processes, the same topology URLs, all stopped', async () => {
    const app = await startApp(resolveConfig({ app: { command, instances: 3 } }).app, urls, os.tmpdir());
    try {
      expect(app.urls).toHaveLength(3);
      expect(new Set(app.urls).size).toBe(3);
      expect(app.url).toBe(app.urls[0]);
      const answers = await Promise.all(app.urls.map(answer));
      expect(new Set(answers.map((a) => a.pid)).size).toBe(3);
      for (const a of answers) expect(a).toMatchObject({ primary: urls.primary, replicas: urls.replicas.join(',') });
    } finally {
      await app.stop();
    }
    for (const pid of app.pids) expect(alive(pid!)).toBe(false);
  });

  test('one instance (the default) is the app as before: one URL, one process', async () => {
    const config = resolveConfig({ app: { command } }).app;
    expect(config.instances).toBe(1);
    const app = await startApp(config, urls, os.tmpdir());
    try {
      expect(app.urls).toEqual([app.url]);
      expect(app.pids).toEqual([app.pid]);
      expect((await answer(app.url)).pid).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
    expect(alive(app.pid!)).toBe(false);
  });

  test('an instance that fails to start stops the others and says which setting', async () => {
    // The first copy to create the lock file serves; the others exit before they are ready.
    const dir = tempDir('instances');
    const lock = path.join(dir, 'lock');
    const pidFile = path.join(dir, 'pid');
    const once = `node -e "require('node:fs').writeFileSync('${lock}', '', { flag: 'wx' })" && echo $$ > ${pidFile} && ${command}`;
    const config = resolveConfig({ app: { command: once, instances: 3, readyTimeoutMs: 20_000 } }).app;
    const error = await startApp(config, urls, os.tmpdir()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as Error).message).toMatch(/^of app\.instances 3: the app exited \(code 1\) before it was ready/);
    // The copy that started was stopped with the others.
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  test.each([
    [{ command, instances: 2, url: 'http://127.0.0.1:3000' }, /invalid app\.instances: app\.instances above 1 needs/],
    [{ url: 'http://127.0.0.1:3000', instances: 2 }, /invalid app\.instances: app\.instances above 1 needs/],
    [{ command, instances: 0 }, /invalid app\.instances/],
    [{ command, instances: 17 }, /invalid app\.instances/],
  ])('%o is refused in one line', (app, message) => {
    expect(() => resolveConfig({ app }, 'dbproof.config.ts')).toThrow(message);
  });
});
