import type { TestProject } from 'vitest/node';
import { serveTopology } from '../topology/control/index.ts';
import { startTopology } from '../providers/index.ts';
import './provided.ts';
import { topologySpecFromEnv } from './spec-from-env.ts';

/**
 * vitest globalSetup: one topology for the whole test run, started before the first
 * suite file and stopped after the last. Test files reach it through `dbproof/vitest`.
 *
 *   // vitest.config.ts
 *   test: { globalSetup: ['dbproof/vitest/global-setup'] }
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const topology = await startTopology(topologySpecFromEnv());
  const control = await serveTopology(topology);
  project.provide('dbproof', control.handle);
  return async () => {
    await control.close();
    await topology.stop();
  };
}
