// Prints the sha256 of every row a profile generates at a scale and seed, as COPY text.
// Run in a fresh process by the determinism test, so nothing is shared with the caller.
import { createHash } from 'node:crypto';
import { planDataset } from '../../fixtures/dataset/plan.ts';
import { generateRows } from '../../fixtures/dataset/rows.ts';
import { copyChunks } from '../../fixtures/dataset/copy-text.ts';
import { profile } from '../../fixtures/profiles/index.ts';

export function datasetChecksum(name: string, scale: number, seed: number): string {
  const plan = planDataset(profile(name), scale, seed);
  const hash = createHash('sha256');
  for (const table of plan.dataset.order) {
    hash.update(`\0${table}\0`);
    for (const chunk of copyChunks(generateRows(plan, table))) hash.update(chunk);
  }
  return hash.digest('hex');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [name, scale, seed] = process.argv.slice(2);
  console.log(datasetChecksum(name!, Number(scale), Number(seed)));
}
