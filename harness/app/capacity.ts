import os from 'node:os';
import { UsageError } from '../errors.ts';

/**
 * What one instance of an app is allowed, at the least, when dbproof starts several on one
 * machine: a quarter of a core (four per core, each under a share of the load) and 150 MiB
 * (a Node or JVM service's resident set after start, before its caches fill). Above that, the
 * instances fight for the machine and every verdict measures the fight.
 */
export const PER_CORE = 4;
export const BYTES_PER_INSTANCE = 150 * 1024 * 1024;

/** The most instances of the app this machine runs at once, and why that many. */
export function instancesCapacity(machine = { cores: os.availableParallelism(), freeBytes: os.freemem() }) {
  const byCores = machine.cores * PER_CORE;
  const byMemory = Math.max(1, Math.floor(machine.freeBytes / BYTES_PER_INSTANCE));
  return byCores <= byMemory
    ? { most: byCores, why: `${machine.cores} cores, ${PER_CORE} instances per core` }
    : { most: byMemory, why: `${Math.round(machine.freeBytes / 1024 ** 2)} MiB free, 150 MiB per instance` };
}

/** `app.instances` above what this machine runs at once is bad input, refused before anything starts. */
export function checkInstances(instances: number, machine?: Parameters<typeof instancesCapacity>[0]): void {
  if (instances <= 1) return;
  const { most, why } = instancesCapacity(machine);
  if (instances > most)
    throw new UsageError(
      `app.instances ${instances} is more than this machine runs at once (${why}: at most ${most}); set app.instances to ${most} or fewer, or run on a larger machine`,
    );
}
