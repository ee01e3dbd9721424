import { spawn } from 'node:child_process';
import os from 'node:os';
import { UsageError } from '../../errors.ts';
import { startTopology } from '../../topology/start.ts';
import type { Topology } from '../../topology/types.ts';
import { parseArgs } from '../args.ts';
import { TOPOLOGY_FLAGS, TOPOLOGY_FLAGS_HELP, topologySpecFrom } from './topology-options.ts';

export const EXEC_HELP = `dbproof exec [options] -- <command…>

Starts a topology, runs the command with these variables set, stops the topology
and exits with the command's status:
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

export async function exec(argv: string[]): Promise<number> {
  const { options, rest } = parseArgs('exec', argv, TOPOLOGY_FLAGS, true);
  if (options.help) {
    console.log(EXEC_HELP);
    return 0;
  }
  const spec = topologySpecFrom(options);
  if (rest.length === 0) throw new UsageError('dbproof exec needs a command after --, e.g. `dbproof exec -- npm test`');

  const topology = await startTopology(spec);
  try {
    const [command, ...args] = rest as [string, ...string[]];
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...topologyEnv(topology) } });
    // The terminal sends Ctrl-C to the command as well; for a kill from elsewhere, pass it on.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
    return await new Promise<number>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        console.error(error.code === 'ENOENT' ? `dbproof exec: command not found: ${command}` : `dbproof exec: could not run ${command}: ${error.message}`);
        resolve(127);
      });
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
    });
  } finally {
    await topology.stop();
  }
}
