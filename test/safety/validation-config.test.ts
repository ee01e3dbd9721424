// Issue 12, items 13 and 15, the config side: an app URL that is not http(s), an app that
// is said to be ready without being asked, and a data set scale that would plan for ever.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startApp } from '../../harness/app/index.ts';
import { resolveConfig } from '../../harness/config/read.ts';
import { InfrastructureError } from '../../harness/errors.ts';
import { freePort } from '../../harness/providers/native/ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const urls = { primary: 'postgres://x@127.0.0.1:1/app', replicas: [], redis: undefined };

let healthy: http.Server;
let healthyUrl: string;
beforeAll(async () => {
  healthy = http.createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end());
  await new Promise<void>((resolve) => healthy.listen(0, '127.0.0.1', resolve));
  healthyUrl = `http://127.0.0.1:${(healthy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => healthy.close(() => resolve())));

describe('app.url', () => {
  test.each(['file:///etc/passwd', 'ftp://127.0.0.1/', 'javascript:alert(1)'])(
    '%s is refused: only http: and https:',
    (url) => {
      expect(() => resolveConfig({ app: { url } }, 'dbproof.config.ts')).toThrow(
        /^dbproof\.config\.ts: invalid app\.url: an http:\/\/ or https:\/\/ URL/,
      );
    },
  );

  test('an app.url with no command is probed: nothing answering is an error within readyTimeoutMs, never "ready"', async () => {
    const app = resolveConfig({ app: { url: `http://127.0.0.1:${await freePort()}`, readyTimeoutMs: 1500 } }).app;
    const started = Date.now();
    const error = await startApp(app, urls, ROOT).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as Error).message).toMatch(
      /^the app at http:\/\/127\.0\.0\.1:\d+ did not answer \/health with 2xx within 1500 ms; check that it is running, and app\.url and app\.ready$/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  test('an app.url that answers its ready path is ready', async () => {
    const app = resolveConfig({ app: { url: `${healthyUrl}/`, readyTimeoutMs: 5000 } }).app;
    await expect(startApp(app, urls, ROOT)).resolves.toMatchObject({ url: healthyUrl, pid: undefined });
  });
});

describe('a data set scale beyond the free space is refused at once, before any row is planned', () => {
  // In a child process: the defect was a synchronous loop, which no test time-out interrupts.
  const plan = (profile: string, scale: number) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { planDataset, ${profile} } from './fixtures/index.ts'; try { planDataset(${profile}, ${scale}, 42); console.log('planned'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
    );

  test.each([
    ['inspections', 1e12],
    ['saas', 1e9],
    ['bags', 1e15],
  ])('%s at scale %d', (profile, scale) => {
    const result = plan(profile, scale);
    expect(result.error, 'planning did not end within 30 s').toBeUndefined();
    expect(result.stdout.trim()).toMatch(
      new RegExp(
        `^UsageError: dataset ${profile} at scale ${scale} needs about [\\d.]+ [GTPE]B \\(≈ [\\d.e+]+ rows at \\d+ bytes each at the least\\), more than the [\\d.]+ [KMGT]B free in .+; lower the scale \\(--scale, dataset\\.scale\\) or point DBPROOF_TMPDIR at a bigger disk$`,
      ),
    );
  });

  test("the config's dataset.scale (a built-in profile) is refused when the config is read, before a topology starts", () => {
    expect(() =>
      resolveConfig({ app: { url: healthyUrl }, dataset: { profile: 'saas', scale: 1e12 } }, 'dbproof.config.ts'),
    ).toThrow(/^dbproof\.config\.ts: invalid dataset\.scale: dataset saas at scale 1000000000000 needs about/);
    expect(() =>
      resolveConfig({ app: { url: healthyUrl }, dataset: { profile: 'nope' } }, 'dbproof.config.ts'),
    ).toThrow(/^dbproof\.config\.ts: invalid dataset\.profile: unknown profile 'nope'/);
  });

  test('a scale that fits is planned as before', () => {
    expect(plan('inspections', 0.01).stdout.trim()).toBe('planned');
  });
});
