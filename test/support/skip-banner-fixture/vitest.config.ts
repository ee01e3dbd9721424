// A project of its own for test/support/skip-banner.test.ts: vitest runs these files with
// the banner reporter, as dbproof's own vitest.config.ts does.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.fixture.ts'],
    reporters: ['default', fileURLToPath(new URL('../skip-banner.ts', import.meta.url))],
  },
});
