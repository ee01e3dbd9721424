// Where dbproof's own files are, whether this code runs from its TypeScript source
// (harness/…, through tsx or vitest) or from the compiled package (dist/harness/…).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ABOVE = path.dirname(HERE);

/** dbproof's folder: the one holding its package.json, bin/ and example/. */
export const PACKAGE_ROOT = path.basename(ABOVE) === 'dist' ? path.dirname(ABOVE) : ABOVE;

/** A file that ships as it is (package.json, docker-compose.yml, example/…), by its path from the package's root. */
export function packageFile(relative: string): string {
  return path.join(PACKAGE_ROOT, relative);
}

/**
 * The module `name` (written without its extension) beside the module at `importMetaUrl`,
 * with that module's own extension: `.ts` when dbproof runs from source, `.js` compiled.
 * For files started as processes of their own, which no import rewrites.
 */
export function siblingModule(importMetaUrl: string, name: string): string {
  const extension = path.extname(fileURLToPath(importMetaUrl));
  return fileURLToPath(new URL(`${name}${extension}`, importMetaUrl));
}
