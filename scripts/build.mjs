#!/usr/bin/env node
// Builds the package's JavaScript into dist/ (`npm run build`, run by `prepack` and by
// `npm test`): tsc for the TypeScript (types and source maps beside it), then the files
// tsc does not compile (the plain .mjs modules and their .d.mts types, the containers'
// node.sh) copied to the same places, then dist/.built, the stamp bin/dbproof.js compares
// with the sources to tell a current build from a stale one.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['harness', 'fixtures', 'load', 'suites'];
const ASSET = /\.(mjs|d\.mts|sh)$/;

execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});

function copyAssets(folder) {
  for (const entry of readdirSync(path.join(root, folder), { withFileTypes: true })) {
    const relative = path.join(folder, entry.name);
    if (entry.isDirectory()) copyAssets(relative);
    else if (ASSET.test(entry.name)) {
      mkdirSync(path.join(root, 'dist', folder), { recursive: true });
      copyFileSync(path.join(root, relative), path.join(root, 'dist', relative));
    }
  }
}
for (const folder of SOURCES) copyAssets(folder);
writeFileSync(path.join(root, 'dist', '.built'), `${new Date().toISOString()}\n`);
