#!/usr/bin/env node
// The `dbproof` command. It runs the compiled package (dist/, built by `npm run build`,
// which `prepack` and `npm test` run). In a checkout, a dist/ older than any source file is
// stale: dbproof then runs its TypeScript source through tsx instead, so an edit is never
// hidden behind an old build, and a checkout with no build works as it is.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'harness', 'cli', 'main.js');
const source = path.join(root, 'harness', 'cli', 'main.ts');

/** What the build compiles or copies: TypeScript (not tests), plain modules, the containers' script. */
const BUILT = /(?<!\.test)\.(ts|mts|mjs|sh)$/;

/** Whether any file under `folder` that the build uses changed after `since` (ms). */
function changedSince(folder, since) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory() ? changedSince(file, since) : BUILT.test(entry.name) && statSync(file).mtimeMs > since)
      return true;
  }
  return false;
}

function buildIsCurrent() {
  if (!existsSync(compiled)) return false;
  if (!existsSync(source)) return true; // the published package: no source to compare with
  const stamp = path.join(root, 'dist', '.built');
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return !['harness', 'fixtures', 'load', 'suites'].some((folder) => changedSince(path.join(root, folder), built));
}

if (buildIsCurrent()) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // `import … from 'dbproof'` in a config resolves, from source, to the source (the
  // "dbproof-source" condition of package.json's exports), not to a dist/ that may be old.
  const hook = `export function resolve(specifier, context, next) {
    return next(specifier, { ...context, conditions: [...context.conditions, 'dbproof-source'] });
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  await import(pathToFileURL(source).href);
}
