// Waiting for a Postgres dbproof started: a connection that times out is a busy machine,
// waited through to the deadline; never taken for a refusal on the first try.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect, test } from 'vitest';
import { type PostgresLaunch, waitUntilAccepting } from '../../harness/providers/native/postgres-process.ts';
import { tempDir } from '../support/temp.ts';

test('a server that accepts the socket but never answers within the client’s 2 s is waited for until the deadline, then named with its log', async () => {
  const dir = tempDir('accepting');
  const port = 54_999;
  // Accepts on Postgres' socket path and says nothing: node-postgres's connect times out ("timeout expired").
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(path.join(dir, `.s.PGSQL.${port}`), resolve));
  const logFile = path.join(dir, 'postgres.log');
  writeFileSync(logFile, 'LOG:  database system is starting\n');
  // The "server" process, alive throughout: only the connection decides.
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const launch = { dataDir: path.join(dir, 'primary'), port, socketDir: dir, logFile } as PostgresLaunch;
  const started = Date.now();
  try {
    await expect(waitUntilAccepting(child, launch, 5000)).rejects.toThrow(
      /^postgres \(primary\) was not ready after 5000 ms:\n.*database system is starting/,
    );
    // Retried past the first time-out (2 s), not refused on it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
  } finally {
    child.kill('SIGKILL');
    silent.close();
  }
});
