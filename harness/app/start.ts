import { spawn } from 'node:child_process';
import path from 'node:path';
import type { AppConfig } from '../config/schema.ts';
import { InfrastructureError } from '../errors.ts';
import { freePort } from '../providers/native/ports.ts';
import { Watchdog } from '../process/watchdog.ts';
import { redact } from '../redact.ts';
import { pollUntil } from '../wait.ts';

/** The URLs the app is given (through the fault links). */
export interface AppUrls {
  primary: string;
  replicas: string[];
  redis: string | undefined;
}

export interface StartedApp {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const LOG_LINES = 30;

/**
 * Starts the system under test: `app.command` through `sh -c`, in a process group of its
 * own (so its children go with it), with the topology's URLs in the environment and a
 * free port in `envNames.port`; resolves once `app.ready` answers 2xx. A watchdog ends
 * the group if dbproof itself is killed.
 */
const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );

export async function startApp(app: AppConfig, urls: AppUrls, configDir: string): Promise<StartedApp> {
  if (!app.command) return attach(app);
  const port = await freePort();
  const url = (app.url ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...app.env,
    [app.envNames.primary]: urls.primary,
    [app.envNames.replicas]: urls.replicas.join(','),
    [app.envNames.redis]: urls.redis ?? '',
    [app.envNames.port]: String(port),
  };
  const child = spawn('/bin/sh', ['-c', app.command], {
    cwd: path.resolve(configDir, app.cwd ?? '.'),
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watchdog = Watchdog.start();
  if (child.pid) watchdog.watchProcessGroup(child.pid);
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...String(chunk).split('\n').filter(Boolean));
    log.splice(0, Math.max(0, log.length - LOG_LINES));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  child.once('exit', (code, signal) => (exited = code ?? (signal ? 128 : null)));

  const stop = async () => {
    if (child.pid && exited === undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await pollUntil(() => exited !== undefined, { timeoutMs: 5000, intervalMs: 50 });
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (child.pid) watchdog.forgetProcessGroup(child.pid);
    await watchdog.close();
  };

  const ready = await pollUntil(
    async () => {
      if (exited !== undefined) {
        await stop();
        throw new InfrastructureError(
          `the app exited (code ${exited}) before it was ready; check app.command (\`${app.command}\`). Its last output:\n${redact(log.join('\n'))}`,
        );
      }
      return answers(`${url}${app.ready}`);
    },
    { timeoutMs: app.readyTimeoutMs, intervalMs: 100 },
  );
  if (ready) return { url, pid: child.pid, stop };
  await stop();
  throw new InfrastructureError(
    `the app did not answer ${url}${app.ready} with 2xx within ${app.readyTimeoutMs} ms; check app.ready, app.url and app.envNames.port. Its last output:\n${redact(log.join('\n'))}`,
  );
}

/**
 * An app dbproof does not start (`app.url`, no command): asked, as a started one is, until
 * `app.ready` answers 2xx; not there within `readyTimeoutMs` is an error, never "ready".
 */
async function attach(app: AppConfig): Promise<StartedApp> {
  const url = app.url!.replace(/\/$/, '');
  const ready = await pollUntil(() => answers(`${url}${app.ready}`), {
    timeoutMs: app.readyTimeoutMs,
    intervalMs: 100,
  });
  if (!ready)
    throw new InfrastructureError(
      `the app at ${redact(url)} did not answer ${app.ready} with 2xx within ${app.readyTimeoutMs} ms; check that it is running, and app.url and app.ready`,
    );
  return { url, pid: undefined, stop: async () => {} };
}
