import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../errors.ts';
import type { Topology } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { TOPOLOGY_FLAGS, TOPOLOGY_FLAGS_HELP, topologySpecFrom } from './topology-options.ts';

export const EXEC_HELP = `dbproof exec [options] -- <command…>

Starts a topology, runs the command with these variables set, stops the topology
and exits with the command's status (a command that is not on PATH or not executable
is refused, exit 2, before anything starts):
  DATABASE_URL           the primary (role app, database app)
  DATABASE_REPLICA_URLS  the replicas, comma-separated
  REDIS_URL              Redis (unset with --no-redis)
  DBPROOF_ADMIN_URL      the superuser on the primary

${TOPOLOGY_FLAGS_HELP}`;

/** The environment a system under test gets: URLs as they are, passwords included. */
export function topologyEnv(topology: Topology): Record<string, string> {
  const env: Record<string, string> = {
    DATABASE_URL: topology.primary.url,
    DATABASE_REPLICA_URLS: topology.replicas.map((r) => r.url).join(','),
    DBPROOF_ADMIN_URL: topology.adminUrl,
  };
  if (topology.redis) env.REDIS_URL = topology.redis.url;
  return env;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** What the shell would run for `command`, or a UsageError: found before a topology is started for nothing. */
function resolveCommand(command: string): string {
  if (command.includes('/')) {
    let exists = true;
    try {
      statSync(command);
    } catch {
      exists = false;
    }
    if (!exists)
      throw new UsageError(`exec: no such command ${command}; give a path that exists, or a command on PATH`);
    if (!executable(command))
      throw new UsageError(
        `exec: ${command} is not executable (a directory, or no x permission); \`chmod +x\` it or run it through its interpreter, e.g. \`-- sh ${command}\``,
      );
    return command;
  }
  const found = (process.env.PATH ?? '')
    .split(':')
    .map((dir) => path.join(dir || '.', command))
    .find(executable);
  if (!found) throw new UsageError(`exec: command not found on PATH: ${command}; install it, or give its path`);
  return found;
}

export async function exec(argv: string[]): Promise<number> {
  const { options, rest } = parseArgs('exec', argv, TOPOLOGY_FLAGS, true);
  if (options.help) {
    console.log(EXEC_HELP);
    return 0;
  }
  const spec = topologySpecFrom(options);
  if (rest.length === 0) throw new UsageError('dbproof exec needs a command after --, e.g. `dbproof exec -- npm test`');
  resolveCommand(rest[0]!);

  // Loaded once the command line is known to be good: a usage error answers at once (issue 15).
  const { startTopology } = await import('../../providers/index.ts');
  const topology = await startTopology(spec);
  try {
    const [command, ...args] = rest as [string, ...string[]];
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...topologyEnv(topology) } });
    // The terminal sends Ctrl-C to the command as well; for a kill from elsewhere, pass it on.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
    return await new Promise<number>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        // Checked before the start, yet gone or changed since (or its interpreter is missing): the shell's 127.
        console.error(
          error.code === 'ENOENT'
            ? `dbproof exec: command not found: ${command}`
            : `dbproof exec: could not run ${command}: ${error.message}`,
        );
        resolve(127);
      });
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
    });
  } finally {
    await topology.stop();
  }
}
