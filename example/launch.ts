import { spawn } from 'node:child_process';

import { compiledExampleApp } from './compiled.ts';

/** The reference app's environment: the topology's URLs, and the switches of its naive parts. */
export interface ExampleAppEnv {
  DATABASE_URL: string;
  DATABASE_REPLICA_URLS?: string;
  REDIS_URL?: string;
  [name: `EXAMPLE_${string}`]: string | undefined;
}

/**
 * Starts the reference app as its own process (as a system under test is), compiled
 * (./compiled.ts), and resolves with its base URL and PID.
 */
export async function startExampleApp(
  env: ExampleAppEnv,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--enable-source-maps', compiledExampleApp()], {
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(String(chunk));
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the example app exited (${code}) before listening: ${stderr}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        // SIGKILL if it has not gone 5 s after SIGTERM: a test's clean-up must not hang on the app.
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The command that starts the reference app, for a config's `app.command`: node on its
 * compiled copy (see ./compiled.ts); `node --import tsx example/main.ts` starts the same app.
 */
export function exampleAppCommand(): string {
  return `node --enable-source-maps ${JSON.stringify(compiledExampleApp())}`;
}
