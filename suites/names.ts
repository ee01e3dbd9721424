/**
 * The names of the suites dbproof ships, in the catalogue's order: what `dbproof test --help`
 * lists without loading any suite (suites/index.ts holds the suites themselves, checked
 * against this list by its type).
 */
export const SUITE_NAMES = [
  'n-plus-one',
  'batch-fallback',
  'replica-lost',
  'replica-frozen',
  'replica-lag',
  'primary-lost',
  'redis-lost',
  'cache-effectiveness',
  'pool',
  'circuit-breaker',
  'online-migration',
  'query-plans',
  'migration-rehearsal',
  'backup-restore',
  'rate-limit',
  'health',
  'headers',
] as const;

export type SuiteName = (typeof SUITE_NAMES)[number];
