// Plan capture on real nodes: auto_explain turned on on a primary and a standby (ALTER SYSTEM
// and a reload), the plans of one role in one database read back from each node's server log,
// and everything reset however the check ends; a node without auto_explain is refused in one
// line, before anything is changed on it.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { withPlanCapture, type PlanNodeAccess } from '../../harness/capture/plan-capture.ts';
import { startTopology, type Topology } from '../../harness/index.ts';
import { databaseUrl, queryRows } from '../../harness/pg/client.ts';
import type { PgNode } from '../../harness/topology/types.ts';

let topology: Topology;
let withoutAutoExplain: Topology;
beforeAll(async () => {
  [topology, withoutAutoExplain] = await Promise.all([
    startTopology({ replicas: 1, redis: false }),
    startTopology({
      replicas: 0,
      redis: false,
      postgres: { settings: { shared_preload_libraries: 'pg_stat_statements' } },
    }),
  ]);
  const app = databaseUrl(topology.adminUrl, appDatabase(topology.primary));
  await queryRows(app, 'CREATE TABLE lines AS SELECT g AS id FROM generate_series(1, 5000) g');
  await queryRows(app, 'GRANT SELECT ON lines TO app');
  await topology.replicas[0]!.waitForCatchup(30_000);
}, 120_000);
afterAll(async () => {
  await Promise.all([topology?.stop(), withoutAutoExplain?.stop()]);
});

const access = (node: PgNode): PlanNodeAccess => ({
  name: node.name,
  adminUrl: node.adminUrl,
  serverLog: node.serverLog!,
});
const appDatabase = (node: PgNode) => new URL(node.url).pathname.slice(1);

/** What each node shows now, and whether postgresql.auto.conf still holds an auto_explain setting. */
async function captureState(nodes: PgNode[]): Promise<[string, string, number][]> {
  return Promise.all(
    nodes.map(async (node) => {
      const [row] = await queryRows<{ value: string; files: number }>(
        node.adminUrl,
        "SELECT current_setting('auto_explain.log_min_duration') AS value, (SELECT count(*)::int FROM pg_file_settings WHERE name LIKE 'auto_explain.%') AS files",
      );
      return [node.name, row!.value, row!.files] as [string, string, number];
    }),
  );
}

test('on a primary and a standby: the plans of the app role in its database are read from the logs, then it is all reset', async () => {
  const nodes = [topology.primary, topology.replicas[0]!];
  const database = appDatabase(topology.primary);
  const read = await withPlanCapture(nodes.map(access), async (capture) => {
    expect(await captureState(nodes)).toEqual([
      ['primary', '0', 6],
      ['replica1', '0', 6],
    ]);
    return capture.plans(
      async () => {
        // The app role on the standby (a read), dbproof's superuser beside it (not the app's: left out).
        await queryRows(topology.replicas[0]!.url, 'SELECT count(*) FROM lines WHERE id > $1', [10]);
        await queryRows(databaseUrl(topology.replicas[0]!.adminUrl, database), 'SELECT 1 FROM lines LIMIT 1');
      },
      'app',
      database,
    );
  });
  expect(read.unreadable).toBe(0);
  expect(read.plans).toEqual([
    expect.objectContaining({
      user: 'app',
      database,
      queryText: 'SELECT count(*) FROM lines WHERE id > $1',
      queryId: expect.stringMatching(/^-?[1-9]\d*$/),
    }),
  ]);
  expect(read.plans[0]!.plan['Node Type']).toBe('Aggregate');
  expect(read.plans[0]!.plan.Plans?.[0]).toMatchObject({
    'Node Type': 'Seq Scan',
    'Relation Name': 'lines',
    'Actual Rows': 4990,
  });
  expect(await captureState(nodes)).toEqual([
    ['primary', '-1', 0],
    ['replica1', '-1', 0],
  ]);
});

test('a check that fails still turns auto_explain off on every node', async () => {
  const nodes = [topology.primary, topology.replicas[0]!];
  await expect(
    withPlanCapture(nodes.map(access), async () => {
      throw new Error('the check failed');
    }),
  ).rejects.toThrow('the check failed');
  expect(await captureState(nodes)).toEqual([
    ['primary', '-1', 0],
    ['replica1', '-1', 0],
  ]);
});

test('a node without auto_explain is refused in one line, and nothing is run or changed', async () => {
  let ran = false;
  await expect(
    withPlanCapture([access(withoutAutoExplain.primary)], async () => {
      ran = true;
    }),
  ).rejects.toThrow(
    /^auto_explain is not loaded on primary: the query-plans suite needs it in shared_preload_libraries/,
  );
  expect(ran).toBe(false);
  const [row] = await queryRows<{ n: number }>(
    withoutAutoExplain.adminUrl,
    "SELECT count(*)::int AS n FROM pg_file_settings WHERE name LIKE 'auto_explain.%'",
  );
  expect(row!.n).toBe(0);
});

test("a node logging another line prefix (a team's own compose file, say) is refused in one line naming it, and nothing is changed", async () => {
  const otherPrefix = await startTopology({
    replicas: 0,
    redis: false,
    postgres: { settings: { log_line_prefix: '%m [%p] ' } },
  });
  try {
    let ran = false;
    await expect(
      withPlanCapture([access(otherPrefix.primary)], async () => {
        ran = true;
      }),
    ).rejects.toThrow(
      "primary logs with log_line_prefix '%m [%p] ': the query-plans suite reads each plan's role, database and query id from dbproof's '%m [%p] %q%u@%d %Q '; set it so on every node",
    );
    expect(ran).toBe(false);
    const [row] = await queryRows<{ n: number }>(
      otherPrefix.adminUrl,
      "SELECT count(*)::int AS n FROM pg_file_settings WHERE name LIKE 'auto_explain.%'",
    );
    expect(row!.n).toBe(0);
  } finally {
    await otherPrefix.stop();
  }
}, 60_000);
