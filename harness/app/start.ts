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
  /** The first instance's URL: where a suite that sends to one instance sends. */
  url: string;
  pid: number | undefined;
  /** Every instance's URL, in the order started (`app.instances`; one entry for one instance). */
  urls: string[];
  /** Every instance's process (undefined: an app dbproof did not start). */
  pids: (number | undefined)[];
  stop(): Promise<void>;
}

/** One instance of the app, started or attached. */
type Instance = Omit<StartedApp, 'urls' | 'pids'>;

const LOG_LINES = 30;

const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );

/**
 * Starts the system under test: `app.command` through `sh -c`, in a process group of its
 * own (so its children go with it), with the topology's URLs in the environment and a
 * free port in `envNames.port`; resolves once `app.ready` answers 2xx. A watchdog ends
 * the group if dbproof itself is killed. `app.instances` above 1 starts that many copies.
 */
export async function startApp(app: AppConfig, urls: AppUrls, configDir: string): Promise<StartedApp> {
  const command = app.command;
  if (!command) return oneOf(await attach(app));
  if (app.instances === 1) return oneOf(await startInstance(app, command, urls, configDir));
  // `app.instances`: copies of the same command, each on a free port of its own, started
  // together; one that fails stops the others, so a refused start leaves nothing running.
  const started = await Promise.allSettled(
    Array.from({ length: app.instances }, () => startInstance(app, command, urls, configDir)),
  );
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    const reason = failed.reason as Error;
    throw reason instanceof InfrastructureError
      ? new InfrastructureError(`of app.instances ${app.instances}: ${reason.message}`)
      : reason;
  }
  return {
    url: instances[0]!.url,
    pid: instances[0]!.pid,
    urls: instances.map((instance) => instance.url),
    pids: instances.map((instance) => instance.pid),
    stop,
  };
}

const oneOf = (instance: Instance): StartedApp => ({ ...instance, urls: [instance.url], pids: [instance.pid] });

async function startInstance(app: AppConfig, command: string, urls: AppUrls, configDir: string): Promise<Instance> {
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
  const child = spawn('/bin/sh', ['-c', command], {
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
async function attach(app: AppConfig): Promise<Instance> {
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
