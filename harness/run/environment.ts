import { randomBytes } from 'node:crypto';
import { silentProgress } from '../../fixtures/loader/progress.ts';
import { seedPrivateDatabase } from '../../fixtures/private-database.ts';
import { dropCreatedDatabase, seedAppDatabase } from '../../fixtures/seed.ts';
import { startApp } from '../app/index.ts';
import { startLinks, type TopologyLinks } from '../faults/index.ts';
import { startTopology } from '../providers/index.ts';
import type { Topology } from '../topology/types.ts';
import type { RunPlan } from './plan.ts';

/** What the suites and loads of a run are given: everything started, the data set in, the app answering. */
export interface Environment {
  topology: Topology;
  /** The network the app was given (its URLs go through these proxies). */
  links: TopologyLinks;
  /**
   * The app's URL, and its process when dbproof started it (its CPU use is watched beside
   * dbproof's and Postgres's); with `app.instances` above 1, the first instance's, and every
   * instance's in `urls`.
   */
  app: { url: string; pid: number | undefined; urls: string[] };
  /** The app's database (the same on every node). */
  database: string;
  /** The data set seeded again at another scale, in a database of its own (see SuiteContext.seedAt). */
  seedAt?: (scale: number) => Promise<{ name: string; drop(): Promise<void> }>;
}

/**
 * Topology → data set → links → app, handed to `body`, then everything stopped in the
 * reverse order, whatever happened. `what` names the checks the topology is for.
 */
export async function withEnvironment(
  plan: RunPlan,
  what: string[],
  say: (line: string) => void,
  body: (environment: Environment) => Promise<void>,
): Promise<void> {
  say(`starting the topology (${what.join(', ')})`);
  const topology = await startTopology(plan.spec);
  const cleanups: (() => Promise<void>)[] = [() => topology.stop()];
  try {
    const { config } = plan;
    // A cluster dbproof started is its own to seed. An external one is someone's staging
    // cluster: its databases are never replaced; the data set goes into a database of
    // this run's own, handed to the app, and dropped afterwards.
    const external = topology.provider === 'external';
    const database =
      plan.dataset && config.dataset && external
        ? `dbproof_app_${randomBytes(6).toString('hex')}`
        : new URL(topology.primary.url).pathname.slice(1);
    if (plan.dataset && config.dataset) {
      say(
        `seeding ${plan.dataset.name} (scale ${config.dataset.scale}) into ${external ? `${database}, a database of this run's own on the external primary` : database}`,
      );
      if (external) cleanups.unshift(() => dropCreatedDatabase(topology.adminUrl, database));
      const snapshot = await seedAppDatabase(topology, plan.dataset, {
        scale: config.dataset.scale,
        seed: config.dataset.seed,
        progress: silentProgress,
        database,
        replace: !external,
      });
      // A template this run made on someone else's server goes with the run.
      if (external && snapshot.report.loaded) cleanups.unshift(() => snapshot.drop());
    }
    const links = await startLinks(topology, { database });
    cleanups.unshift(() => links.close());
    const app = await startApp(
      config.app,
      { primary: links.writer.url, replicas: links.replicas.map((l) => l.url), redis: links.redis?.url },
      plan.configDir,
    );
    cleanups.unshift(() => app.stop());
    say(`${config.app.name} is ready at ${app.urls.join(', ')}`);
    // Only on a cluster dbproof started: a size ladder's databases are never made on someone's staging cluster.
    const dataset = plan.dataset;
    const seedOf = config.dataset ? config.dataset.seed : undefined;
    const seedAt =
      dataset && seedOf !== undefined && !external
        ? async (scale: number) => {
            say(`seeding ${dataset.name} (scale ${scale}) into a database of its own`);
            const private_ = await seedPrivateDatabase(topology, dataset, {
              scale,
              seed: seedOf,
              progress: silentProgress,
            });
            return { name: private_.name, drop: () => private_.drop() };
          }
        : undefined;
    await body({ topology, links, app, database, ...(seedAt ? { seedAt } : {}) });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}
