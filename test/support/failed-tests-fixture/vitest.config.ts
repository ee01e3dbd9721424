// A project of its own for test/support/failed-tests.test.ts: a test that fails, one that
// passes, one that passes on its retry, run by a vitest of their own with the retry banner.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.fixture.ts'],
    retry: 1,
    reporters: ['default', fileURLToPath(new URL('../retry-banner.ts', import.meta.url))],
  },
});
