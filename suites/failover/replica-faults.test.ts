// "Reads fail over to a healthy replica in under 2 s": a steady open-model load on the
// reference app while a replica is killed or frozen, measured per 250 ms. The app with
// read failover and timeouts must keep the promise; the same app without them must
// break it (the negative controls that prove the check can fail).
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { runSchedule } from '../../harness/faults/index.ts';
import { connectTopology } from '../../harness/topology/control/index.ts';
import { inspections } from '../../fixtures/index.ts';
import { seedPrivateDatabase, type PrivateDatabase } from '../../harness/vitest/private-database.ts';
import { startExampleApp } from '../../example/launch.ts';
import { runOpenLoad } from '../../load/engines/open-model.ts';
import { faultImpact, type FaultImpact } from '../../load/timeline.ts';
import '../../harness/vitest/provided.ts';

const BUDGET = { timeToRecoverMs: 2000, maxErrors: 1, p99Ms: 1000 };
const FAULT_AT = 1000;
// Longer than the recovery budget plus the p99 budget: a request that waits out the
// whole fault must be able to break the check.
const FAULT_FOR = 4000;
const BUCKET_MS = 250;

const topology = connectTopology(inject('dbproof'));
type App = { url: string; stop(): Promise<void> };
let lastError = '';

let database: PrivateDatabase;
const apps: Record<'resilient' | 'noTimeouts' | 'noFailover', App | undefined> = { resilient: undefined, noTimeouts: undefined, noFailover: undefined };

beforeAll(async () => {
  database = await seedPrivateDatabase(topology, inspections, { scale: 0.002, seed: 5 });
  const env = { DATABASE_URL: database.url, DATABASE_REPLICA_URLS: database.replicaUrls.join(',') };
  [apps.resilient, apps.noTimeouts, apps.noFailover] = await Promise.all([
    startExampleApp(env),
    startExampleApp({ ...env, EXAMPLE_TIMEOUTS: 'off' }),
    startExampleApp({ ...env, EXAMPLE_READ_FAILOVER: 'off' }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app?.stop()));
  await database?.drop();
});

/** 40 requests/s for 7 s; the fault starts at 1 s and is undone 4 s later. */
async function underFault(app: App, fault: () => Promise<unknown>, undo: () => Promise<unknown>): Promise<FaultImpact & { lastError: string }> {
  lastError = '';
  const schedule = runSchedule([
    { at: FAULT_AT, kind: 'fault', target: 'replica1', apply: fault },
    { at: FAULT_AT + FAULT_FOR, kind: 'undo', target: 'replica1', apply: undo },
  ]);
  const timeline = await runOpenLoad({
    rate: 40,
    durationMs: 7000,
    bucketMs: BUCKET_MS,
    request: async () => {
      const response = await fetch(`${app.url}/inspections-joined?limit=5`, { signal: AbortSignal.timeout(10_000) });
      const body = await response.text();
      if (!response.ok) {
        lastError = `HTTP ${response.status}: ${body.slice(0, 200)}`;
        throw new Error(lastError);
      }
    },
  });
  const events = await schedule.done;
  expect(events.every((e) => e.error === undefined)).toBe(true);
  // The last failure the load saw goes into the report: a failing verdict says why.
  return { ...faultImpact(timeline.buckets(), events[0]!.t, BUDGET.p99Ms, BUCKET_MS), lastError };
}

const keepsPromise = (impact: FaultImpact) => impact.errorsDuringFault <= BUDGET.maxErrors && impact.timeToRecoverMs !== null && impact.timeToRecoverMs <= BUDGET.timeToRecoverMs;

describe('replica lost (kill)', () => {
  test('the app with read failover keeps serving: errors and recovery within budget', async () => {
    const replica = topology.replicas[0]!;
    const impact = await underFault(apps.resilient!, () => replica.kill(), () => replica.start());
    expect(impact, JSON.stringify(impact)).toSatisfy(keepsPromise);
  });

  test('the app without read failover fails the same check', async () => {
    const replica = topology.replicas[0]!;
    const impact = await underFault(apps.noFailover!, () => replica.kill(), () => replica.start());
    expect(impact.errorsDuringFault).toBeGreaterThan(BUDGET.maxErrors);
    expect(keepsPromise(impact)).toBe(false);
  });
});

describe('replica frozen (pause): the case that catches a missing timeout', () => {
  test('the app with timeouts recovers within budget', async () => {
    const replica = topology.replicas[0]!;
    const impact = await underFault(apps.resilient!, () => replica.pause(), () => replica.resume());
    expect(impact, JSON.stringify(impact)).toSatisfy(keepsPromise);
  });

  test('the app without timeouts fails: its requests wait for the frozen replica', async () => {
    const replica = topology.replicas[0]!;
    const impact = await underFault(apps.noTimeouts!, () => replica.pause(), () => replica.resume());
    expect(impact.worstP99Ms).toBeGreaterThan(BUDGET.p99Ms);
    expect(keepsPromise(impact)).toBe(false);
  });
});
