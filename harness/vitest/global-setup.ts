import { availableParallelism } from 'node:os';
import type { TestProject } from 'vitest/node';
import { serveTopology } from '../topology/control/index.ts';
import type { TopologyHandle } from '../topology/control/protocol.ts';
import { startTopology } from '../providers/index.ts';
import './provided.ts';
import { topologySpecFromEnv } from './spec-from-env.ts';

/**
 * vitest globalSetup: one topology per worker of the project for the whole test run
 * (one where the project runs its files one at a time), started before the first suite
 * file and stopped after the last. Test files reach theirs through `dbproof/vitest`.
 *
 *   // vitest.config.ts
 *   test: { globalSetup: ['dbproof/vitest/global-setup'] }
 *
 * A topology per worker is what lets files that fault their topology (kill a replica,
 * freeze the primary) run at once: vitest never runs two files under one worker id at the
 * same time, so no file's fault is another file's failure.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // vitest resolves `fileParallelism: false` to maxWorkers 1; unset, its own default applies.
  const workers = Math.max(
    1,
    project.config.maxWorkers ?? project.vitest.config.maxWorkers ?? availableParallelism() - 1,
  );
  const spec = topologySpecFromEnv();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
  const handles: TopologyHandle[] = [];
  try {
    // One after another: each start is short (a copy of a cached data directory), and a
    // failed start stops those already running.
    for (let i = 0; i < workers; i++) {
      const topology = await startTopology(spec);
      stops.push(() => topology.stop());
      const control = await serveTopology(topology);
      stops[stops.length - 1] = async () => {
        await control.close();
        await topology.stop();
      };
      handles.push(control.handle);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  project.provide('dbproof', handles[0]!);
  project.provide('dbproofWorkers', handles);
  return stopAll;
}
