// dbproof/vitest's globalSetup starts one topology per worker of the project, and hands each
// running file its worker's: two files running at once never share a topology (so one's
// fault is never the other's failure), and a project that runs its files one at a time
// gets a single topology, shared in turn. Runs vitest on a small project of its own
// (worker-topologies-fixture/), whose two files meet before they report, so they overlap.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { tempDir } from '../support/temp.ts';

const CONFIG = fileURLToPath(new URL('./worker-topologies-fixture/vitest.config.ts', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** The primary port each fixture file was handed, when vitest runs them with `workers` workers. */
async function portsWith(workers: number): Promise<{ first: string; second: string }> {
  const out = tempDir(`worker-topologies-${workers}`);
  // Not this run's worker variables: the child is a vitest run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  const { stdout } = await promisify(execFile)(process.execPath, [VITEST, 'run', '--config', CONFIG], {
    env: {
      ...env,
      NO_COLOR: '1',
      CI: '1',
      // A primary alone: what is under test is which topology a file gets, not its shape.
      DBPROOF_REPLICAS: '0',
      DBPROOF_REDIS: '0',
      OUT_DIR: out,
      WORKERS: String(workers),
      RENDEZVOUS: workers > 1 ? '1' : '0',
    },
  });
  expect(stdout).toMatch(/Tests {2}2 passed/);
  const read = (name: string) =>
    (JSON.parse(readFileSync(path.join(out, `${name}.json`), 'utf8')) as { port: string }).port;
  return { first: read('first'), second: read('second') };
}

/** Whether anything still listens on 127.0.0.1:port. */
const listening = (port: string) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() === undefined));
    socket.once('error', () => resolve(false));
  });

test('two files running at once are each handed a topology of their own, and both are stopped after the run', async () => {
  const ports = await portsWith(2);
  expect(ports.first).not.toBe(ports.second);
  expect(await listening(ports.first)).toBe(false);
  expect(await listening(ports.second)).toBe(false);
}, 120_000);

test('a project that runs its files one at a time starts one topology and hands it to each file in turn', async () => {
  const ports = await portsWith(1);
  expect(ports.first).toBe(ports.second);
  expect(await listening(ports.first)).toBe(false);
}, 120_000);
