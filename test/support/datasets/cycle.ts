import { columns, defineDataset } from '../../../fixtures/index.ts';

export default defineDataset({
  name: 'cycle',
  tables: {
    a: { rows: () => 5, columns: { id: columns.id(), b_id: columns.ref('b') } },
    b: { rows: () => 5, columns: { id: columns.id(), a_id: columns.ref('a') } },
  },
});
