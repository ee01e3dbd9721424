#!/usr/bin/env node
// Writes test/durations.json, the seconds each test file took, from a vitest JSON report:
//   npx vitest run --reporter=json --outputFile=/tmp/vitest.json && node scripts/test-durations.mjs /tmp/vitest.json
// vitest starts the longest files first by it (test/support/longest-first.ts) where it has no
// durations of its own (a fresh clone, CI), so the last file to end is a short one. Refresh
// it when files are added or their durations change much; a file it lacks starts last.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [report] = process.argv.slice(2);
if (!report) {
  console.error('test-durations: give a vitest JSON report (vitest run --reporter=json --outputFile=FILE)');
  process.exit(2);
}
let results;
try {
  results = JSON.parse(readFileSync(report, 'utf8')).testResults;
  if (!Array.isArray(results)) throw new Error('it has no testResults');
} catch (error) {
  console.error(
    `test-durations: ${report} is not a vitest JSON report (${error.message.split('\n')[0]}); make one with --reporter=json --outputFile=FILE`,
  );
  process.exit(2);
}
const durations = {};
for (const file of results) {
  durations[path.relative(root, file.name)] = Math.round((file.endTime - file.startTime) / 100) / 10;
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => (a < b ? -1 : 1)));
const target = path.join(root, 'test', 'durations.json');
writeFileSync(`${target}.tmp`, `${JSON.stringify(sorted, null, 2)}\n`);
// Atomic: a half-written table would make every file "unknown".
renameSync(`${target}.tmp`, target);
console.log(`test-durations: ${Object.keys(sorted).length} files into ${path.relative(root, target)}`);
