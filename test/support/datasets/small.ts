import { columns, defineDataset, uniform } from '../../../fixtures/index.ts';

export default defineDataset({
  name: 'small',
  tables: {
    owners: {
      rows: (scale) => 10 * scale,
      columns: { id: columns.id(), name: columns.text((f) => f.person.fullName()) },
    },
    pets: {
      parent: 'owners',
      fanout: uniform(1, 3),
      columns: { id: columns.id(), owner_id: columns.parentId('owners'), age: columns.integer(uniform(1, 15)) },
    },
  },
});
