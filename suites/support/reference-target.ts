import { inspections } from '../../fixtures/profiles/index.ts';
import type { SeedOptions } from '../../fixtures/seed.ts';
import { startLinks } from '../../harness/faults/index.ts';
import { createRunDirectory, type RunDirectory } from '../../harness/results/index.ts';
import type { z } from 'zod';
import { afterAll, beforeAll } from 'vitest';
import { runSuite, type SuiteContext, type SuiteDefinition } from '../../harness/suite/index.ts';
import type { SuiteResult } from '../../harness/results/index.ts';
import type { Topology } from '../../harness/topology/types.ts';
import { seedPrivateDatabase } from '../../fixtures/private-database.ts';
import { startExampleApp, type ExampleAppEnv } from '../../example/launch.ts';

/** The reference app as a suite's target: its own seeded database, its links, its process. */
export interface ReferenceTarget {
  context: SuiteContext;
  /** How results name it: `reference app` or `reference app (naive)`. */
  name: string;
  stop(): Promise<void>;
}

/**
 * Seeds a private database on the shared topology, puts fault proxies between the app
 * and each node, and starts the reference app on those links (`EXAMPLE_NAIVE=1` for the
 * naive variant). Each target has a database of its own, so two variants never see
 * each other's connections or writes.
 */
export async function startReferenceTarget(
  topology: Topology,
  options: {
    naive?: boolean;
    env?: Partial<ExampleAppEnv>;
    replicas?: boolean;
    redis?: boolean;
    seed?: SeedOptions | false;
    /** Copies of the app on the same links (`app.instances`); default 1. */
    instances?: number;
    /** How results name it; default `reference app` or `reference app (naive)`. */
    name?: string;
  } = {},
): Promise<ReferenceTarget> {
  // seed: false — the topology's own (empty) `app` database, on a topology of the test's own.
  const database =
    options.seed === false
      ? { name: new URL(topology.primary.url).pathname.slice(1), drop: async () => {} }
      : await seedPrivateDatabase(topology, inspections, options.seed ?? { scale: 0.002, seed: 5 });
  const links = await startLinks(topology, { database: database.name });
  const started: Awaited<ReturnType<typeof startExampleApp>>[] = [];
  const stopApps = () => Promise.all(started.map((app) => app.stop()));
  try {
    for (let i = 0; i < (options.instances ?? 1); i++)
      started.push(
        await startExampleApp({
          DATABASE_URL: links.writer.url,
          DATABASE_REPLICA_URLS: options.replicas === false ? '' : links.replicas.map((l) => l.url).join(','),
          REDIS_URL: options.redis === false ? '' : (links.redis?.url ?? ''),
          ...(options.naive ? { EXAMPLE_NAIVE: '1' } : {}),
          ...options.env,
        }),
      );
    const [app] = started as [(typeof started)[number]];
    return {
      context: {
        topology,
        links,
        app: started.length > 1 ? { ...app, urls: started.map((a) => a.url) } : app,
        database: database.name,
        // The target's data set at another scale, its seed unchanged (query-plans' size ladder).
        ...(options.seed === false
          ? {}
          : {
              seedAt: (scale: number) =>
                seedPrivateDatabase(topology, inspections, { ...(options.seed || { seed: 5 }), scale }),
            }),
      },
      name: options.name ?? (options.naive ? 'reference app (naive)' : 'reference app'),
      stop: async () => {
        await stopApps();
        await links.close();
        await database.drop();
      },
    };
  } catch (error) {
    await stopApps();
    await links.close();
    await database.drop();
    throw error;
  }
}

let testRun: Promise<RunDirectory> | undefined;
/** The results folder of this test process's suite runs (`results/<run-id>/`, or under DBPROOF_RESULTS_DIR). */
export const resultsRun = (): Promise<RunDirectory> =>
  (testRun ??= createRunDirectory(process.env.DBPROOF_RESULTS_DIR ?? 'results'));

/**
 * The reference app and its naive variant as targets for one test file: started before
 * its tests (in parallel), stopped after them.
 */
export function goodAndNaive(
  topology: Topology,
  options: Parameters<typeof startReferenceTarget>[1] = {},
): { good: ReferenceTarget; naive: ReferenceTarget } {
  const targets = {} as { good: ReferenceTarget; naive: ReferenceTarget };
  beforeAll(async () => {
    [targets.good, targets.naive] = await Promise.all([
      startReferenceTarget(topology, options),
      startReferenceTarget(topology, { ...options, naive: true }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([targets.good?.stop(), targets.naive?.stop()]);
  });
  return targets;
}

/**
 * Targets for one test file, each variant of the reference app with its own options: started
 * before its tests (in parallel), stopped after them. If one fails to start, those that did
 * are stopped before the error is thrown: a failed start leaves nothing running.
 */
export function referenceTargets<Name extends string>(
  topology: Topology,
  variants: Record<Name, Parameters<typeof startReferenceTarget>[1]>,
): Record<Name, ReferenceTarget> {
  const targets = {} as Record<Name, ReferenceTarget>;
  beforeAll(async () => {
    const names = Object.keys(variants) as Name[];
    const started = await Promise.allSettled(names.map((name) => startReferenceTarget(topology, variants[name])));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
      throw failed.reason;
    }
    names.forEach((name, i) => {
      targets[name] = (started[i] as PromiseFulfilledResult<ReferenceTarget>).value;
    });
  }, 180_000);
  afterAll(async () => {
    await Promise.all(Object.values<ReferenceTarget>(targets).map((target) => target.stop()));
  });
  return targets;
}

/** Runs a suite on a target and writes its result into this test run's results folder. */
export async function runOn<Schema extends z.ZodType>(
  suite: SuiteDefinition<Schema>,
  target: ReferenceTarget,
  options: z.input<Schema> | Record<string, never> = {},
): Promise<SuiteResult & { file?: string }> {
  return runSuite(suite, target.context, options, { target: target.name, run: await resultsRun() });
}
