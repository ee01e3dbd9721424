import type { Dataset } from '../../fixtures/dataset/types.ts';
import { DATASET_DEFAULTS } from '../../fixtures/defaults.ts';
import {
  replaceDatabase,
  seed,
  seedCacheKey,
  waitForReplicas,
  type SeededSnapshot,
  type SeedOptions,
} from '../../fixtures/seed.ts';
import type { Topology, TopologySpec } from '../topology/types.ts';
import { startTopology } from './index.ts';

/**
 * A topology whose `app` database holds the data set: on a seed-cache hit every
 * node starts from the cached seeded data directory (no generation, no load); on a
 * miss it is seeded, and the result kept for the next run (native provider).
 */
export async function startSeededTopology(
  spec: TopologySpec,
  dataset: Dataset,
  options: SeedOptions = {},
): Promise<{ topology: Topology; snapshot: SeededSnapshot }> {
  const key = seedCacheKey(dataset, options.scale ?? DATASET_DEFAULTS.scale, options.seed ?? DATASET_DEFAULTS.seed);
  const topology = await startTopology({ ...spec, postgres: { ...spec.postgres, seedCacheKey: key } });
  try {
    const snapshot = await seed(topology, dataset, options);
    // On a seed-cache hit the nodes started from data that holds it already: nothing to copy.
    if (snapshot.report.loaded) {
      // A topology dbproof just started: its `app` database is dbproof's to replace.
      await replaceDatabase(snapshot, topology.adminUrl, 'app', { owner: 'app', replace: true });
      await waitForReplicas(
        topology.adminUrl,
        topology.replicas.map((r) => r.adminUrl),
      );
      await topology.seedCache?.store(key);
    }
    return { topology, snapshot };
  } catch (error) {
    await topology.stop();
    throw error;
  }
}
