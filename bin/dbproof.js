#!/usr/bin/env node
// The `dbproof` command. It runs the compiled package (dist/, built by `npm run build`,
// which `prepack` and `npm test` run). In a checkout, a dist/ older than any source file is
// stale: dbproof then runs its TypeScript source through tsx instead, so an edit is never
// hidden behind an old build, and a checkout with no build works as it is.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'harness', 'cli', 'main.js');
const source = path.join(root, 'harness', 'cli', 'main.ts');
// Whether the build is current is decided in one place, harness/package-files.ts; its
// compiled copy answers (no dist/ at all: run the source).
const files = path.join(root, 'dist', 'harness', 'package-files.js');
const buildIsCurrent = async () => existsSync(files) && (await import(pathToFileURL(files).href)).compiledIsCurrent();

if (await buildIsCurrent()) {
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
