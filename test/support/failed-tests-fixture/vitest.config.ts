// A project of its own for test/support/failed-tests.test.ts: one file, one test that fails
// and one that passes, run by a vitest of their own.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.fixture.ts'],
  },
});
