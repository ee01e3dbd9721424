import { expect, test } from 'vitest';

let attempts = 0;
test('holds its budget on its second attempt', () => {
  attempts += 1;
  expect(attempts, 'attempt').toBeGreaterThan(1);
});
