#!/usr/bin/env node
// The watchdog: a tiny detached process, one per topology, in the spirit of
// Testcontainers' Ryuk. Its stdin is a pipe from the process that owns the
// topology; registrations arrive as JSON lines. When the pipe closes — because the
// owner finished, crashed or was SIGKILLed — it ends the processes dbproof started in
// each registered directory (those running a registered program: never a user's shell
// that happens to work there) and removes those directories, then exits. The kernel closes the pipe
// for us, so no owner death goes unnoticed and nothing has to poll.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { endProcessesUnder } from './node-processes.mjs';

const nodes = new Map(); // node directory -> { pid, signal, programs } of its main process
const dirs = new Map(); // directory -> the programs dbproof runs in it
const containers = new Set(); // Docker container ids (provider 'containers')
const networks = new Set(); // Docker network ids
const labels = new Set(); // Docker labels (key=value): every container and network carrying one (a compose project dbproof started)
const groups = new Set(); // process groups (an app under test started by dbproof)

/** `docker …`, resolving whatever happens: the clean-up goes on regardless. */
const docker = (args) =>
  new Promise((resolve) => execFile('docker', args, { timeout: 30_000 }, (_, stdout) => resolve(String(stdout ?? ''))));
const ids = (output) => output.split('\n').filter(Boolean);

const alive = (pgid) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to the whole group, SIGKILL to whatever is left 3 s later. */
async function endGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < 3000 && alive(pgid); waited += 50) await sleep(50);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

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
  if (message.watchNode)
    nodes.set(message.watchNode, {
      pid: message.pid,
      signal: message.signal ?? 'SIGTERM',
      programs: message.programs ?? [],
    });
  if (message.watchContainer) containers.add(message.watchContainer);
  if (message.forgetContainer) containers.delete(message.forgetContainer);
  if (message.watchNetwork) networks.add(message.watchNetwork);
  if (message.watchLabel) labels.add(message.watchLabel);
  if (message.forgetNetwork) networks.delete(message.forgetNetwork);
  if (message.watchGroup) groups.add(message.watchGroup);
  if (message.forgetGroup) groups.delete(message.forgetGroup);
  if (message.watchDir) dirs.set(message.watchDir, message.programs ?? []);
  if (message.forgetDir) dirs.delete(message.forgetDir);
});
// 'close' fires on EOF and on a broken pipe alike.
lines.on('close', async () => {
  await Promise.all([...groups].map(endGroup));
  // Looked up now, after the groups (a compose command creating them) have ended: whatever was created until then.
  for (const label of labels) {
    for (const id of ids(await docker(['ps', '-aq', '--no-trunc', '--filter', `label=${label}`]))) containers.add(id);
    for (const id of ids(await docker(['network', 'ls', '-q', '--no-trunc', '--filter', `label=${label}`])))
      networks.add(id);
  }
  if (containers.size > 0) await docker(['rm', '--force', '--volumes', ...containers]);
  for (const network of networks) await docker(['network', 'rm', network]);
  await Promise.all(
    [...nodes].map(([dir, main]) =>
      endProcessesUnder(dir, { programs: main.programs, mainPid: main.pid, gentle: main.signal, graceMs: 3000 }).catch(
        () => {},
      ),
    ),
  );
  // Anything of ours still working in a registered directory has no gentler way out.
  await Promise.all([...dirs].map(([dir, programs]) => endProcessesUnder(dir, { programs }).catch(() => {})));
  for (const dir of dirs.keys()) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Nothing sensible to do from here; the next run's sweep of stale run directories retries.
    }
  }
  process.exit(0);
});
process.stdin.on('error', () => {});
