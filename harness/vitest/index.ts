/**
 * `dbproof/vitest`: what a suite file imports.
 *
 *   import { test, expect } from 'dbproof/vitest';
 *   test('reads survive a replica loss', async ({ topology }) => {
 *     await topology.replicas[0].kill();
 *     …
 *   });
 *
 * The `topology` fixture is the run's topology (started once by the globalSetup);
 * after each test it is healed: paused nodes resumed, stopped ones started again.
 */
import { inject, test as base } from 'vitest';
import type { Dataset } from '../../fixtures/dataset/types.ts';
import { seed, type SeedOptions } from '../../fixtures/seed.ts';
import type { ClonedDatabase } from '../../fixtures/snapshot/snapshot.ts';
import { connectTopology, type RemoteTopology } from '../topology/control/index.ts';
import type { TopologyHandle } from '../topology/control/protocol.ts';
import './provided.ts';
import './matchers.ts';

function provided(): TopologyHandle {
  const handle = inject('dbproof');
  if (!handle)
    throw new Error("no dbproof topology: add globalSetup: ['dbproof/vitest/global-setup'] to this vitest project");
  // This worker's own topology where the globalSetup started one per worker (VITEST_POOL_ID
  // runs from 1 to the project's maxWorkers, and no two running files share one).
  const perWorker = inject('dbproofWorkers') ?? [];
  const worker = Number(process.env.VITEST_POOL_ID ?? '1');
  return perWorker[(worker - 1) % perWorker.length] ?? handle;
}

/**
 * The topology of the worker running this file, for a file that does not use the `topology`
 * fixture (a suite's test that starts its own targets on it in `beforeAll`).
 */
export function workerTopology(): RemoteTopology {
  return connectTopology(provided());
}

export interface DbproofFixtures {
  topology: RemoteTopology;
}

export const test = base.extend<DbproofFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixture's dependencies from this pattern
  topology: async ({}, use) => {
    const topology = connectTopology(provided());
    await use(topology);
    await topology.heal();
  },
});

export interface DatasetFixtures extends DbproofFixtures {
  /** A database of its own for this test, cloned from the seeded snapshot, owned by `app`; dropped afterwards. */
  db: ClonedDatabase;
}

/**
 * A `test` whose tests each get an isolated, seeded database, in one line:
 *
 *   const test = withDataset(inspections, { scale: 0.01 });
 *   test('…', async ({ db }) => { const client = new pg.Client(db.url); … });
 *
 * The data set is seeded once per topology (the template is shared by every file that
 * asks for the same data set, scale and seed), then cloned per test in milliseconds.
 */
export function withDataset(dataset: Dataset, options: SeedOptions = {}) {
  return test.extend<{ db: ClonedDatabase }>({
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixture's dependencies from this pattern
    db: async ({}, use) => {
      const { description } = provided();
      const replicaAdminUrls = description.nodes
        .filter((n) => n.kind === 'postgres' && n.name !== 'primary')
        .map((n) => n.url);
      const snapshot = await seed(
        { adminUrl: description.admin, appUrl: description.primary, replicaAdminUrls },
        dataset,
        options,
      );
      const database = await snapshot.clone();
      await use(database);
      await database.drop();
    },
  });
}

export { describe, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
export type { RemoteTopology } from '../topology/control/index.ts';
export { captureQueries } from '../capture/in-process.ts';
export { seedPrivateDatabase, type PrivateDatabase } from '../../fixtures/private-database.ts';
export type { NPlusOneOptions } from './matchers.ts';
