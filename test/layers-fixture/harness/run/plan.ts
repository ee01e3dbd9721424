// Imported by the fixtures of test/unit/layers.test.ts.
export const planned = 1;
export type Planned = typeof planned;
