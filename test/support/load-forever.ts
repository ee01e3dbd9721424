// Starts a load of 300,000 rows and prints a line once rows are flowing; the test kills it mid-way.
import { columns, defineDataset, seed } from '../../fixtures/index.ts';
import type { CopyProgress } from '../../fixtures/loader/progress.ts';

export const slowDataset = defineDataset({
  name: 'interrupted',
  tables: {
    rows_a: {
      rows: (scale) => 300_000 * scale,
      columns: { id: columns.id(), payload: columns.computed('text', (row) => `row ${row.id}`) },
    },
  },
});

if (process.argv[2]) {
  let told = false;
  const progress: CopyProgress = {
    begin() {},
    end() {},
    advance: () => {
      if (!told) {
        told = true;
        process.stdout.write('rows flowing\n');
      }
    },
  };
  await seed(process.argv[2], slowDataset, { scale: 1, seed: 1, progress });
}
