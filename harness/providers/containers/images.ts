/** Images: config, then DBPROOF_PG_IMAGE / DBPROOF_REDIS_IMAGE, then the official ones. */
export function postgresImage(configured?: string): string {
  return configured ?? process.env.DBPROOF_PG_IMAGE ?? 'postgres:15';
}

export function redisImage(configured?: string): string {
  return configured ?? process.env.DBPROOF_REDIS_IMAGE ?? 'redis:7';
}
