import type { Dataset } from '../../fixtures/dataset/types.ts';
import { seed, type SeedOptions } from '../../fixtures/seed.ts';
import type { ClonedDatabase } from '../../fixtures/snapshot/snapshot.ts';
import type { Topology } from '../topology/types.ts';

export interface PrivateDatabase extends ClonedDatabase {
  /** The same database on each replica (the app role's URLs), once they have it. */
  replicaUrls: string[];
}

/**
 * A seeded database of a suite's own on the shared topology: what it runs is not mixed
 * with other suites' statements (black-box attribution counts per database), and its
 * writes touch nobody else. The replicas have replayed it when this resolves.
 */
export async function seedPrivateDatabase(topology: Topology, dataset: Dataset, options: SeedOptions = {}): Promise<PrivateDatabase> {
  const snapshot = await seed({ adminUrl: topology.adminUrl, appUrl: topology.primary.url, replicaAdminUrls: topology.replicas.map((r) => r.adminUrl) }, dataset, options);
  const database = await snapshot.clone();
  await Promise.all(topology.replicas.map((r) => r.waitForCatchup(30_000)));
  const onReplica = (url: string) => Object.assign(new URL(url), { pathname: `/${database.name}` }).toString();
  return { ...database, replicaUrls: topology.replicas.map((r) => onReplica(r.url)) };
}
