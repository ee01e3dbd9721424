// Plan capture's pure parts: the server log's entries (a prefix, multi-line messages whose
// further lines start with a tab), the auto_explain plans of one role and database in it, and
// the plan claims judged on them (reads by an index, no big Seq Scan, no sort on disk, no
// nested loop over many outer rows), each with the offending node as evidence.
import { describe, expect, test } from 'vitest';
import { checkPlanClaims, planTree, seqScannedRelations, totalRows } from '../../harness/capture/plan-claims.ts';
import { parseServerLog, plansOf, type LoggedPlan, type PlanNode } from '../../harness/capture/server-log.ts';
import { demultiplexDockerLog, linesSince } from '../../harness/providers/containers/server-log.ts';

/** A plan message as Postgres writes it to stderr: the prefix, then each further line after a tab. */
function logged(prefix: string, queryText: string, plan: PlanNode, durationMs = 0.25): string {
  const json = JSON.stringify({ 'Query Text': queryText, Plan: plan }, null, 2);
  return `${prefix} LOG:  duration: ${durationMs} ms  plan:\n${json
    .split('\n')
    .map((line) => `\t${line}`)
    .join('\n')}\n`;
}

const seqScan = (relation: string, rows: number, loops = 1): PlanNode => ({
  'Node Type': 'Seq Scan',
  'Relation Name': relation,
  Alias: relation,
  'Actual Rows': rows,
  'Actual Loops': loops,
});
const indexScan = (relation: string, rows: number, loops = 1): PlanNode => ({
  'Node Type': 'Index Scan',
  'Relation Name': relation,
  'Index Name': `${relation}_pkey`,
  'Actual Rows': rows,
  'Actual Loops': loops,
});
const plan = (node: PlanNode, queryText = 'SELECT 1', queryId = '42'): LoggedPlan => ({
  user: 'app',
  database: 'shop',
  queryId,
  durationMs: 1,
  queryText,
  plan: node,
});

describe('parseServerLog and plansOf', () => {
  const text = [
    '2026-12-03 13:08:26.001 UTC [100] LOG:  checkpoint starting: time',
    logged(
      '2026-12-03 13:08:26.123 UTC [4242] app@shop -5270133469215227016',
      'SELECT * FROM t WHERE id = $1',
      indexScan('t', 1),
    ),
    logged('2026-12-03 13:08:26.130 UTC [4243] dbproof@postgres 77', "SELECT 'fence'", { 'Node Type': 'Result' }),
    logged('2026-12-03 13:08:26.140 UTC [4244] app@other 78', 'SELECT 2', { 'Node Type': 'Result' }),
    '2026-12-03 13:08:26.150 UTC [4242] app@shop 0 ERROR:  relation "nope" does not exist at character 15',
    '2026-12-03 13:08:26.150 UTC [4242] app@shop 0 STATEMENT:  SELECT * FROM nope',
    // A plan message cut short (the log read while it was written): counted, never a crash.
    '2026-12-03 13:08:26.160 UTC [4245] app@shop 79 LOG:  duration: 0.1 ms  plan:\n\t{\n\t  "Query Text": "SELECT',
    'some library writing to stderr',
    '',
  ].join('\n');

  test('each message is one entry, its tab-led lines joined to it; a server process has no role, database or query id', () => {
    const entries = parseServerLog(text);
    expect(entries.map((e) => [e.pid, e.user, e.database, e.queryId, e.severity])).toEqual([
      [100, undefined, undefined, undefined, 'LOG'],
      [4242, 'app', 'shop', '-5270133469215227016', 'LOG'],
      [4243, 'dbproof', 'postgres', '77', 'LOG'],
      [4244, 'app', 'other', '78', 'LOG'],
      [4242, 'app', 'shop', '0', 'ERROR'],
      [4242, 'app', 'shop', '0', 'STATEMENT'],
      [4245, 'app', 'shop', '79', 'LOG'],
    ]);
    expect(entries[1]!.message).toMatch(/^duration: 0\.25 ms {2}plan:\n\{\n {2}"Query Text"/);
  });

  test("only the role's plans in its database are kept, with the query id and the statement; a cut plan is counted unreadable", () => {
    const { plans, unreadable } = plansOf(parseServerLog(text), 'app', 'shop');
    expect(plans).toEqual([
      {
        user: 'app',
        database: 'shop',
        queryId: '-5270133469215227016',
        durationMs: 0.25,
        queryText: 'SELECT * FROM t WHERE id = $1',
        plan: indexScan('t', 1),
      },
    ]);
    expect(unreadable).toBe(1);
  });

  test('a log read from the middle of a message starts at the next entry', () => {
    const tail = '\t  "Plan": {}\n\t}\n2026-12-03 13:08:27.000 UTC [7] LOG:  next';
    expect(parseServerLog(tail).map((e) => e.message)).toEqual(['next']);
  });
});

describe('checkPlanClaims', () => {
  const rows = new Map([
    ['orders', 50_000],
    ['countries', 200],
  ]);

  test('reads by an index: Index Scan and Bitmap Heap Scan count, a Seq Scan is the offence; a table never read is not judged', () => {
    const bitmap: PlanNode = {
      'Node Type': 'Bitmap Heap Scan',
      'Relation Name': 'orders',
      'Actual Rows': 12,
      'Actual Loops': 1,
      Plans: [
        { 'Node Type': 'Bitmap Index Scan', 'Index Name': 'orders_customer_idx', 'Parent Relationship': 'Outer' },
      ],
    };
    const good = checkPlanClaims(
      [plan(indexScan('orders', 1)), plan(bitmap)],
      { readsByIndex: ['orders', 'lines'] },
      rows,
    );
    expect(good.map((c) => [c.metric, c.measured, c.evidence])).toEqual([
      [
        'readsNotByIndex orders',
        0,
        '2 read(s) of orders, all by Index Scan or Bitmap Heap Scan (2 plan(s) of 1 statement(s))',
      ],
      ['readsNotByIndex lines', null, 'no plan reads lines (2 plan(s) of 1 statement(s))'],
    ]);
    const bad = checkPlanClaims(
      [
        plan(seqScan('orders', 3), 'SELECT * FROM orders WHERE lower(ref) = $1'),
        plan(indexScan('orders', 1), 'SELECT 2'),
      ],
      { readsByIndex: ['orders'] },
      rows,
    );
    expect(bad[0]).toMatchObject({
      measured: 1,
      offences: [{ node: 'Seq Scan on orders', relation: 'orders', rows: 3 }],
    });
    expect(bad[0]!.evidence).toBe(
      'SELECT * FROM orders WHERE lower(ref) = $1: Seq Scan on orders (not by an index, 3 rows out) in 1 of 1 plans',
    );
  });

  test('no Seq Scan over N rows: a small table may be scanned; measured is the largest table a Seq Scan read', () => {
    const small = checkPlanClaims([plan(seqScan('countries', 200))], { noSeqScanOver: 1000 }, rows);
    expect(small[0]).toMatchObject({ measured: 200, offences: [] });
    const big = checkPlanClaims(
      [plan(seqScan('countries', 200)), plan(seqScan('orders', 7))],
      { noSeqScanOver: 1000 },
      rows,
    );
    expect(big[0]).toMatchObject({ measured: 50_000, limit: 1000 });
    expect(big[0]!.evidence).toBe('SELECT 1: Seq Scan on orders (50000 rows in the table, 7 rows out) in 1 of 2 plans');
    expect(seqScannedRelations([plan(seqScan('countries', 1)), plan(seqScan('orders', 1))])).toEqual([
      'countries',
      'orders',
    ]);
  });

  test.each<[string, PlanNode, number]>([
    ['an in-memory quicksort', { 'Node Type': 'Sort', 'Sort Method': 'quicksort', 'Sort Space Type': 'Memory' }, 0],
    ['a top-N heapsort', { 'Node Type': 'Sort', 'Sort Method': 'top-N heapsort', 'Sort Space Type': 'Memory' }, 0],
    [
      'an external merge',
      { 'Node Type': 'Sort', 'Sort Method': 'external merge', 'Sort Space Type': 'Disk', 'Sort Space Used': 2816 },
      1,
    ],
    [
      "a parallel worker's external sort",
      {
        'Node Type': 'Sort',
        'Sort Method': 'quicksort',
        Workers: [
          { 'Worker Number': 0, 'Sort Method': 'external sort', 'Sort Space Type': 'Disk', 'Sort Space Used': 9 },
        ],
      },
      1,
    ],
    [
      'an incremental sort spilling',
      { 'Node Type': 'Incremental Sort', 'Full-sort Groups': { 'Sort Methods Used': ['external merge'] } },
      1,
    ],
  ])('no sort spill: %s → %i offence(s)', (_, sort, spilled) => {
    const [check] = checkPlanClaims(
      [plan({ ...sort, 'Actual Rows': 5, 'Actual Loops': 1 })],
      { noSortSpill: true },
      rows,
    );
    expect(check!.measured).toBe(spilled);
    if (spilled) expect(check!.evidence).toMatch(/^SELECT 1: (Sort|Incremental Sort) \(.*external/);
  });

  test('nested loop outer rows: the outer child’s rows times its loops, against the limit', () => {
    const loop = (outerRows: number, loops: number): PlanNode => ({
      'Node Type': 'Nested Loop',
      'Actual Rows': outerRows * loops,
      'Actual Loops': 1,
      Plans: [
        { ...seqScan('orders', outerRows, loops), 'Parent Relationship': 'Outer' },
        { ...indexScan('countries', 1, outerRows * loops), 'Parent Relationship': 'Inner' },
      ],
    });
    expect(totalRows(loop(700, 2).Plans![0]!)).toBe(1400);
    const [fine] = checkPlanClaims([plan(loop(20, 1))], { nestedLoopOuterRowsAtMost: 100 }, rows);
    expect(fine).toMatchObject({
      measured: 20,
      offences: [],
      evidence: '1 Nested Loop(s), at most 20 outer rows (1 plan(s) of 1 statement(s))',
    });
    const [bad] = checkPlanClaims([plan(loop(700, 2))], { nestedLoopOuterRowsAtMost: 100 }, rows);
    expect(bad).toMatchObject({ measured: 1400, offences: [{ node: 'Nested Loop', rows: 1400 }] });
    expect(bad!.evidence).toBe(
      'SELECT 1: Nested Loop (1400 outer rows from Seq Scan on orders, 1400 rows out) in 1 of 1 plans',
    );
  });

  test("a failed claim carries the worst offence's plan as a tree, every offending node of it marked", () => {
    const scan = seqScan('orders', 700, 2);
    const root: PlanNode = {
      'Node Type': 'Nested Loop',
      'Actual Rows': 1400,
      'Actual Loops': 1,
      Plans: [
        { ...scan, 'Parent Relationship': 'Outer' },
        { ...indexScan('countries', 1, 1400), 'Parent Relationship': 'Inner' },
      ],
    };
    const [check] = checkPlanClaims(
      [{ ...plan(root, 'SELECT * FROM orders JOIN countries USING (c)'), request: 'GET /orders' }],
      { readsByIndex: ['orders'] },
      rows,
    );
    expect(check!.example).toEqual({
      request: 'GET /orders',
      statement: 'SELECT * FROM orders JOIN countries USING (c)',
      plan: {
        node: 'Nested Loop',
        rows: 1400,
        children: [
          { node: 'Seq Scan on orders', rows: 1400, offending: true, detail: 'not by an index', children: [] },
          { node: 'Index Scan using countries_pkey on countries', rows: 1400, children: [] },
        ],
      },
    });
    expect(planTree(root, new Map()).children[0]).not.toHaveProperty('offending');
    expect(checkPlanClaims([plan(indexScan('orders', 1))], { readsByIndex: ['orders'] }, rows)[0]).not.toHaveProperty(
      'example',
    );
  });

  test('no plan at all judges nothing: every claim unmeasured, which never passes', () => {
    const checks = checkPlanClaims(
      [],
      { readsByIndex: ['orders'], noSeqScanOver: 10, noSortSpill: true, nestedLoopOuterRowsAtMost: 1 },
      rows,
    );
    expect(checks.map((c) => c.measured)).toEqual([null, null, null, null]);
    expect(checks[1]!.evidence).toMatch(/^no plan was logged for these requests/);
  });

  test('an offence repeated in every request is said once, with how many plans had it and the first request', () => {
    const plans = [1, 2, 3].map((id) => ({
      ...plan(seqScan('orders', 9), 'SELECT *\n  FROM orders'),
      request: `GET /orders/${id}`,
    }));
    const [check] = checkPlanClaims(plans, { readsByIndex: ['orders'] }, rows);
    expect(check!.evidence).toBe(
      'SELECT * FROM orders: Seq Scan on orders (not by an index, 9 rows out) in 3 of 3 plans (first: GET /orders/1)',
    );
  });
});

describe('the containers’ server log', () => {
  test('Docker’s multiplexed frames are joined; lines before the mark are dropped, their timestamps removed', () => {
    const frame = (text: string) => {
      const header = Buffer.alloc(8);
      header[0] = 2;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    const raw = Buffer.concat([
      frame('2026-12-03T13:08:26.100000000Z before\n'),
      frame('2026-12-03T13:08:26.600000000Z after\n2026-12-03T13:08:26.700000000Z \t continued\n'),
    ]);
    expect(linesSince(demultiplexDockerLog(raw), Date.parse('2026-12-03T13:08:26.500Z'))).toBe('after\n\t continued\n');
  });
});
