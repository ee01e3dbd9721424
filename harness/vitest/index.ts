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
import { connectTopology, type RemoteTopology } from '../topology/control/index.ts';
import './provided.ts';

export interface DbproofFixtures {
  topology: RemoteTopology;
}

export const test = base.extend<DbproofFixtures>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixture's dependencies from this pattern
  topology: async ({}, use) => {
    const handle = inject('dbproof');
    if (!handle) {
      throw new Error("no dbproof topology: add globalSetup: ['dbproof/vitest/global-setup'] to this vitest project");
    }
    const topology = connectTopology(handle);
    await use(topology);
    await topology.heal();
  },
});

export { describe, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
export type { RemoteTopology } from '../topology/control/index.ts';
