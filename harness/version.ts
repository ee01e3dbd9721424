import { readFileSync } from 'node:fs';

/** dbproof's own version, from its package.json: what `dbproof --version` prints and every run's results record. */
export const DBPROOF_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
