// A frozen replica must open only that replica's breaker (issue 13: the reference app had
// one breaker for the whole database, so a frozen replica opened it and every read and
// write got `HTTP 503 database circuit open`). The reference app with the demo config's
// breaker (3 failures, 1 s, 500 ms timeouts on the primary): a black hole on replica1's
// link under reads and writes, then the replica-frozen suite itself, watching /health.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { queryRows } from '../../harness/pg/client.ts';
import { pollUntil } from '../../harness/wait.ts';
import { connect, optionsFromEnv, type Db } from '../../example/src/db.ts';
import { replicaFrozen } from './replica-frozen.ts';
import { runOn, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { verdictLines } from '../support/expect-verdicts.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const env = { EXAMPLE_BREAKER_FAILURES: '3', EXAMPLE_BREAKER_RESET_MS: '1000', EXAMPLE_WRITE_TIMEOUT_MS: '500' };
let target: ReferenceTarget;
let db: Db;
/** Which node answered, by its postmaster's start time (`primary`, `replica1`, …). */
const nodeByStart = new Map<string, string>();
const START_SQL = 'SELECT pg_postmaster_start_time()::text AS started';

beforeAll(async () => {
  target = await startReferenceTarget(topology, { env });
  const { links } = target.context;
  // The app's own data layer, in this process, on the same links and with the same options, so its breakers can be read.
  db = connect(
    links.writer.url,
    links.replicas.map((l) => l.url),
    optionsFromEnv(env),
  );
  for (const node of [topology.primary, ...topology.replicas]) {
    const [row] = await queryRows<{ started: string }>(node.adminUrl, START_SQL);
    nodeByStart.set(row!.started, node.name);
  }
}, 120_000);
afterAll(async () => {
  await db?.close();
  await target?.stop();
});

type Seen = Record<string, Set<string>>;

/**
 * Black-holes replica1's link for 3 s under a read every 20 ms and a write every 100 ms, not
 * waiting for each other (as under load): which node served each read, what failed, and
 * every state each node's breaker was seen in.
 */
async function replica1Frozen(db: Db) {
  // Warm: both replicas answered, the lag monitor has seen them.
  await pollUntil(
    async () => {
      const served = new Set<string>();
      for (let i = 0; i < 4; i++)
        served.add((await db.read<{ started: string }>(START_SQL).catch(() => []))[0]?.started ?? '');
      return served.size >= 2;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  const link = target.context.links.replicas[0]!;
  const seen: Seen = {};
  const look = () => {
    for (const b of db.breakers) seen[b.node] = (seen[b.node] ?? new Set()).add(b.state);
  };
  const served = new Map<string, number>();
  const failures: string[] = [];
  const work: Promise<void>[] = [];
  link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'downstream', name: 'frozen-down' });
  link.proxy.addToxic({ type: 'timeout', timeout: 0, direction: 'upstream', name: 'frozen-up' });
  try {
    for (let tick = 0; tick < 150; tick++) {
      work.push(
        db.read<{ started: string }>(START_SQL).then(
          ([row]) => {
            const node = nodeByStart.get(row!.started) ?? row!.started;
            served.set(node, (served.get(node) ?? 0) + 1);
          },
          (error: Error) => void failures.push(`read: ${error.message}`),
        ),
      );
      if (tick % 5 === 0)
        work.push(
          db.write('UPDATE inspections SET status = status WHERE id = $1', [1 + (tick % 20)]).then(
            () => {},
            (error: Error) => void failures.push(`write: ${error.message}`),
          ),
        );
      look();
      await sleep(20);
    }
    await Promise.all(work);
    look();
  } finally {
    link.proxy.reset();
  }
  const summary = JSON.stringify({
    seen: Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, [...v]])),
    served: Object.fromEntries(served),
    failures: failures.slice(0, 5),
  });
  return { seen, served, failures, summary };
}

test("replica1 black-holed: only replica1's breaker opens; reads go to replica2, writes to the primary, none fails", async () => {
  expect(topology.replicas.length, 'needs two replicas').toBeGreaterThanOrEqual(2);
  const { seen, served, failures, summary } = await replica1Frozen(db);
  expect(failures, summary).toEqual([]);
  expect([...seen.replica1!], summary).toContain('open');
  expect([...seen.primary!], summary).toEqual(['closed']);
  expect([...seen.replica2!], summary).toEqual(['closed']);
  // Reads went to the other replica, not to the primary (nor, black-holed, to replica1).
  expect(served.get('replica1') ?? 0, summary).toBe(0);
  expect(served.get('replica2') ?? 0, summary).toBeGreaterThan(140);

  // Healed: replica1's breaker lets a trial through and closes; reads reach replica1 again.
  const back = await pollUntil(
    async () => {
      const [row] = await db.read<{ started: string }>(START_SQL);
      return nodeByStart.get(row!.started) === 'replica1' && db.breakers[1]!.state === 'closed';
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  expect(back, summary).toBe(true);
});

test('without read failover, a frozen replica costs only the reads sent to it: its breaker answers them at once, the rest keep working', async () => {
  // One breaker for the whole database (the app before issue 13) opened here after replica1's
  // first 3 timeouts and answered 503 to every read and write, the primary's and replica2's too.
  const direct = connect(
    target.context.links.writer.url,
    target.context.links.replicas.map((l) => l.url),
    { ...optionsFromEnv(env), readFailover: false },
  );
  try {
    const { seen, served, failures, summary } = await replica1Frozen(direct);
    expect(
      failures.filter((f) => f.startsWith('write')),
      summary,
    ).toEqual([]);
    // Every failed read was one sent to replica1: a timeout until its breaker opened, then its breaker's answer.
    expect(
      failures.filter((f) => !/replica1|timeout/i.test(f)),
      summary,
    ).toEqual([]);
    expect(failures.filter((f) => /circuit open on replica1/.test(f)).length, summary).toBeGreaterThan(
      failures.length / 2,
    );
    expect(served.get('replica2') ?? 0, summary).toBeGreaterThan(60);
    expect([...seen.replica1!], summary).toContain('open');
    expect([...seen.primary!], summary).toEqual(['closed']);
    expect([...seen.replica2!], summary).toEqual(['closed']);
  } finally {
    await direct.close();
  }
});

test("the replica-frozen suite (SIGSTOP) on the demo config's app: passes, and the primary's breaker never opens", async () => {
  const seen = new Map<string, Set<string>>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const health = await fetch(`${target.context.app.url}/health`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.json() as Promise<{ breakers: Record<string, string> }>)
        .catch(() => undefined);
      for (const [node, state] of Object.entries(health?.breakers ?? {}))
        seen.set(node, (seen.get(node) ?? new Set()).add(state));
      await sleep(25);
    }
  })();
  // The run over 1 s after the resume instead of 2 (6 s, not 7): the 4 s freeze, in which
  // replica1's breaker opens after 3 timeouts of 500 ms, and the second before it are the suite's own.
  const result = await runOn(replicaFrozen, target, { durationMs: 6000 }).finally(() => {
    watching = false;
  });
  await watch;
  const observed = JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, [...v]])));
  expect(result.pass, `${verdictLines(result)}\nbreakers seen: ${observed}`).toBe(true);
  expect([...(seen.get('replica1') ?? [])], observed).toContain('open');
  expect([...(seen.get('primary') ?? [])], observed).toEqual(['closed']);
  expect([...(seen.get('replica2') ?? [])], observed).toEqual(['closed']);
});
