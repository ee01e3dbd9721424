import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(EXAMPLE, 'main.ts');
// Beside the package's node_modules, so the bundle's bare imports (pg, ioredis) resolve to them.
const CACHE = path.join(EXAMPLE, '..', 'node_modules', '.cache', 'dbproof-reference-app');

/** The reference app's TypeScript: main.ts and src/, whose contents name the bundle. */
function sources(): string[] {
  const src = path.join(EXAMPLE, 'src');
  return [
    MAIN,
    ...readdirSync(src)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(src, f)),
  ].sort();
}

let compiled: string | undefined;

/**
 * The reference app as one JavaScript file, compiled once per version of its sources
 * (esbuild, into node_modules/.cache): started with node alone it costs about 0.17 s of CPU
 * against 0.36 s through tsx, and the tests start it about a hundred times. Several
 * processes may compile at once: each writes a file of its own and renames it into place.
 * Earlier versions' bundles stay until node_modules goes (about 45 KB each).
 */
export function compiledExampleApp(): string {
  if (compiled && existsSync(compiled)) return compiled;
  // esbuild from the package's devDependencies, resolved from here (not the working directory).
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const hash = createHash('sha256').update(esbuild.version);
  for (const file of sources()) hash.update(file).update(readFileSync(file));
  const target = path.join(CACHE, `main-${hash.digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(target)) {
    mkdirSync(CACHE, { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    try {
      esbuild.buildSync({
        entryPoints: [MAIN],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        outfile: partial,
        // The app's stack traces (quoted when it exits before listening) name its TypeScript.
        sourcemap: 'inline',
        logLevel: 'silent',
      });
      renameSync(partial, target);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  compiled = target;
  return target;
}
