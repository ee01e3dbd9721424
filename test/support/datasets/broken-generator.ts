import { columns, defineDataset } from '../../../fixtures/index.ts';

export default defineDataset({
  name: 'broken_generator',
  tables: {
    t: {
      rows: () => 5,
      columns: {
        id: columns.id(),
        v: columns.computed('text', () => {
          throw new Error('no value today');
        }),
      },
    },
  },
});
