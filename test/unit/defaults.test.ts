// A data set's defaults live in one table: the config, `dbproof seed` and its help read it.
import { expect, test } from 'vitest';
import { DATASET_DEFAULTS } from '../../fixtures/defaults.ts';
import { SEED_HELP } from '../../harness/cli/commands/seed.ts';
import { resolveConfig } from '../../harness/config/index.ts';

test("the config's dataset leaves out scale and seed: the table's", () => {
  const { dataset } = resolveConfig({ app: { url: 'http://127.0.0.1:1' }, dataset: { profile: 'bags' } });
  expect(dataset).toMatchObject({ scale: DATASET_DEFAULTS.scale, seed: DATASET_DEFAULTS.seed });
});

test("dbproof seed's help says the table's defaults", () => {
  expect(SEED_HELP).toContain(`(default ${DATASET_DEFAULTS.profile})`);
  expect(SEED_HELP).toContain(`(default ${DATASET_DEFAULTS.scale};`);
  expect(SEED_HELP).toContain(`(default ${DATASET_DEFAULTS.seed})`);
});
