import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `import … from 'dbproof/vitest'` in a test resolves to the source, never to a dist/ build.
  resolve: { conditions: ['dbproof-source'] },
  ssr: { resolve: { conditions: ['dbproof-source'] } },
  test: {
    // Two cores, and most files wait (on a fault's window, a load's duration, a process's
    // start) far more than they compute: three files at a time keep both cores busy.
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        // The pure functions, tested directly: seconds, no Postgres (`npm run test:unit`).
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        // dbproof's own tests: each file starts the real processes it needs.
        test: {
          name: 'dbproof',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
      {
        extends: true,
        // The verification suites: one topology for the whole run, started by the globalSetup.
        test: {
          name: 'suites',
          include: ['suites/**/*.test.ts'],
          // One topology for every suite file, and suites inject faults into it (kill a
          // replica, freeze it): files take turns, so one suite's fault is not another's
          // failure. Turns taken in a setup file (suites/support/turns.ts), not with
          // fileParallelism: false, which would run them after every other file, on one core.
          setupFiles: ['./suites/support/take-turns.ts'],
          globalSetup: ['./harness/vitest/global-setup.ts', './suites/support/turns-teardown.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
