import { readFileSync } from 'node:fs';
import { packageFile } from './package-files.ts';

/** dbproof's own version, from its package.json: what `dbproof --version` prints and every run's results record. */
export const DBPROOF_VERSION = (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string })
  .version;
