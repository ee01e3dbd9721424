#!/usr/bin/env node
// The watchdog: a tiny detached process, one per topology, in the spirit of
// Testcontainers' Ryuk. Its stdin is a pipe from the process that owns the
// topology; registrations arrive as JSON lines. When the pipe closes — because the
// owner finished, crashed or was SIGKILLed — it ends every registered process group
// and removes every registered directory, then exits. The kernel closes the pipe
// for us, so no owner death goes unnoticed and nothing has to poll.
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { endGroup } from './group.mjs';

const groups = new Map(); // pgid -> gentle signal
const dirs = new Set();

// Detached from the terminal already; a stray SIGINT/SIGHUP must not stop the clean-up.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message.watchGroup) groups.set(message.watchGroup, message.signal ?? 'SIGTERM');
  if (message.forgetGroup) groups.delete(message.forgetGroup);
  if (message.watchDir) dirs.add(message.watchDir);
  if (message.forgetDir) dirs.delete(message.forgetDir);
});
// 'close' fires on EOF and on a broken pipe alike.
lines.on('close', async () => {
  await Promise.all([...groups].map(([pgid, signal]) => endGroup(pgid, signal, 3000).catch(() => {})));
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Nothing sensible to do from here; the next run's sweep of stale run directories retries.
    }
  }
  process.exit(0);
});
process.stdin.on('error', () => {});
