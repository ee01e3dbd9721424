import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(EXAMPLE, 'main.ts');
// Beside the package's node_modules, so the bundle's bare imports (pg, ioredis) resolve to them.
const CACHE = path.join(EXAMPLE, '..', 'node_modules', '.cache', 'dbproof-reference-app');

/**
 * What the bundle is made from, whose contents name it: main.ts, src/ (all of it), and this
 * file (its build options); esbuild's version is hashed beside them.
 */
function sources(): string[] {
  const src = path.join(EXAMPLE, 'src');
  const ts = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return [MAIN, fileURLToPath(import.meta.url), ...ts.map((f) => path.join(src, f))].sort();
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
