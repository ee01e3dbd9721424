// A project of its own for test/topology/worker-topologies.test.ts: dbproof's globalSetup
// with as many workers as WORKERS says (1: files one at a time).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const workers = Number(process.env.WORKERS ?? '2');
export default defineConfig({
  resolve: { conditions: ['dbproof-source'] },
  ssr: { resolve: { conditions: ['dbproof-source'] } },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['*.fixture.ts'],
    globalSetup: [fileURLToPath(new URL('../../../harness/vitest/global-setup.ts', import.meta.url))],
    maxWorkers: workers,
    fileParallelism: workers > 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
