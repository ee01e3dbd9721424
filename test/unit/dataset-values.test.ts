// The rows a data set makes are a function of its profile, scale and seed only: the seed
// cache is keyed by the plan's fingerprint, and a team's baseline compares runs on the same
// data. These values were recorded with Faker loaded from its package entry on [en, base];
// rows.ts now loads the English entry point (a fraction of the start-up CPU). A change to
// the locales, Faker's version or a generator changes them, and this test says so.
import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { planDataset } from '../../fixtures/dataset/plan.ts';
import { generateRows } from '../../fixtures/dataset/rows.ts';
import { inspections } from '../../fixtures/profiles/index.ts';

test('the inspections profile at scale 0.01, seed 7: the same rows and fingerprint as recorded', () => {
  const plan = planDataset(inspections, 0.01, 7);
  const rows = createHash('sha256');
  for (const table of Object.keys(plan.dataset.tables))
    for (const row of generateRows(plan, table)) rows.update(JSON.stringify(row));
  expect(plan.fingerprint).toBe('a84fa593175ddcf6');
  expect(rows.digest('hex')).toBe('02acc45b54b8a68ebf1c358444c3ac6d5dc2195157395570b586b86e9106ce51');
});
