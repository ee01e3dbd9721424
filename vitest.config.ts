import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `import … from 'dbproof/vitest'` in a test resolves to the source, never to a dist/ build.
  resolve: { conditions: ['dbproof-source'] },
  ssr: { resolve: { conditions: ['dbproof-source'] } },
  test: {
    // The run ends with a banner counting the tests skipped on this machine, by reason (no Docker engine, …).
    reporters: ['default', './test/support/skip-banner.ts'],
    // Two cores: one topology-heavy file at a time per core is plenty.
    maxWorkers: 2,
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
          // replica, freeze it): files take turns, so one suite's fault is not another's failure.
          // vitest runs such a project after every other one, alone: on purpose, their timing
          // budgets (a migration's write p99, a pool's queue p99) are judged on a machine that
          // runs nothing else of ours. Beside dbproof's other files on 2 cores they failed
          // (the reference app's write p99 897 ms against 500 ms).
          fileParallelism: false,
          globalSetup: ['./harness/vitest/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
