/**
 * Every suite dbproof ships, by the name `dbproof test <name>` and the config's
 * `suites:` use. A suite is a definition (options with defaults for the reference
 * app, requirements, a run); the `*.test.ts` files beside them run each one on the
 * reference app and on its naive variant.
 */
import { batchFallback } from './batch/batch-fallback.ts';
import { circuitBreaker } from './breaker/circuit-breaker.ts';
import { cacheEffectiveness } from './cache/effectiveness.ts';
import { queryPlans } from './query-plans/query-plans.ts';
import { redisLost } from './cache/redis-lost.ts';
import { primaryLost } from './failover/primary-lost.ts';
import { replicaFrozen } from './failover/replica-frozen.ts';
import { replicaLag } from './failover/replica-lag.ts';
import { replicaLost } from './failover/replica-lost.ts';
import { onlineMigration } from './migration/online-migration.ts';
import { migrationRehearsal } from './migration/rehearsal.ts';
import { nPlusOne } from './n-plus-one/n-plus-one.ts';
import { poolExhaustion } from './pool/pool-exhaustion.ts';
import { backupRestore } from './recovery/backup-restore.ts';
import { rateLimit } from './rate-limit/rate-limit.ts';
import { health } from './health/health.ts';
import { headers } from './headers/headers.ts';
import { SUITE_NAMES, type SuiteName } from './names.ts';

export const SUITES = {
  'n-plus-one': nPlusOne,
  'batch-fallback': batchFallback,
  'query-plans': queryPlans,
  'replica-lost': replicaLost,
  'replica-frozen': replicaFrozen,
  'replica-lag': replicaLag,
  'primary-lost': primaryLost,
  'redis-lost': redisLost,
  'cache-effectiveness': cacheEffectiveness,
  pool: poolExhaustion,
  'circuit-breaker': circuitBreaker,
  'online-migration': onlineMigration,
  'migration-rehearsal': migrationRehearsal,
  'backup-restore': backupRestore,
  'rate-limit': rateLimit,
  health,
  headers,
} as const satisfies Record<SuiteName, unknown>;

export { SUITE_NAMES, type SuiteName };

export {
  queryPlans,
  replicaLost,
  replicaFrozen,
  replicaLag,
  primaryLost,
  redisLost,
  cacheEffectiveness,
  poolExhaustion,
  circuitBreaker,
  onlineMigration,
  migrationRehearsal,
  nPlusOne,
  batchFallback,
  backupRestore,
  rateLimit,
  health,
  headers,
};
