import { UsageError } from '../errors.ts';
import { MAX_REPLICAS } from '../topology/spec.ts';
import type { TopologySpec } from '../topology/types.ts';

function flag(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new UsageError(`${name} must be 1 or 0 (got '${raw}')`);
}

/**
 * The suites' topology, shaped by environment variables until the config file
 * (dbproof.config.ts) exists: DBPROOF_REPLICAS (default 2), DBPROOF_REDIS (default 1),
 * DBPROOF_SYNCHRONOUS (default 0).
 */
export function topologySpecFromEnv(): TopologySpec {
  const replicasRaw = process.env.DBPROOF_REPLICAS ?? '2';
  if (!/^\d+$/.test(replicasRaw) || Number(replicasRaw) > MAX_REPLICAS) {
    throw new UsageError(`DBPROOF_REPLICAS must be a whole number from 0 to ${MAX_REPLICAS} (got '${replicasRaw}')`);
  }
  return {
    replicas: Number(replicasRaw),
    redis: flag('DBPROOF_REDIS', true),
    synchronous: flag('DBPROOF_SYNCHRONOUS', false),
  };
}
