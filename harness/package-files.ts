// Where dbproof's own files are, whether this code runs from its TypeScript source
// (harness/…, through tsx or vitest) or from the compiled package (dist/harness/…).
import { existsSync, readdirSync, statSync } from 'node:fs';
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

/** The folders `npm run build` compiles into dist/. */
const SOURCE_FOLDERS = ['harness', 'fixtures', 'load', 'suites'];
/** What the build compiles or copies: TypeScript (not tests), plain modules, the containers' script. */
const BUILT = /(?<!\.test)\.(ts|mts|mjs|sh)$/;

/** Whether any file under `folder` that the build uses changed after `since` (ms). */
function changedSince(folder: string, since: number): boolean {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory() ? changedSince(file, since) : BUILT.test(entry.name) && statSync(file).mtimeMs > since)
      return true;
  }
  return false;
}

/**
 * Whether dist/ can be run: the package (no source beside it), or a checkout whose last
 * build (dist/.built) is newer than every source file it compiles. A stale build is never
 * run: an edit must not hide behind it. bin/dbproof.js asks this of the compiled copy.
 */
export function compiledIsCurrent(): boolean {
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'harness', 'cli', 'main.js'))) return false;
  if (!existsSync(path.join(PACKAGE_ROOT, 'harness', 'cli', 'main.ts'))) return true;
  const stamp = path.join(PACKAGE_ROOT, 'dist', '.built');
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return !SOURCE_FOLDERS.some((folder) => changedSince(path.join(PACKAGE_ROOT, folder), built));
}

/**
 * The file to start as a process for the module `file`: from source (tests, a checkout run
 * through tsx), its compiled copy in dist/ when the build is current, which starts without
 * tsx (about half a second of CPU less per process); else `file` itself.
 */
export function runnableModule(file: string): string {
  if (!file.endsWith('.ts')) return file;
  const relative = path.relative(PACKAGE_ROOT, file);
  if (relative.startsWith('..') || relative.startsWith('dist')) return file;
  const compiled = path.join(PACKAGE_ROOT, 'dist', relative.replace(/\.ts$/, '.js'));
  return existsSync(compiled) && compiledIsCurrent() ? compiled : file;
}
