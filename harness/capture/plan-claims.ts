import type { PlanEvidenceRecord, PlanTreeRecord } from '../results/schema.ts';
import type { LoggedPlan, PlanNode } from './server-log.ts';

/**
 * Claims about how statements run, stated as properties of their plans, never as index
 * names: an index may be renamed, replaced by a better one or become a covering one, and the
 * claim still holds. Checked on the plans auto_explain logged for an endpoint's requests.
 */
export interface PlanClaims {
  /** Tables the endpoint reads by an index only (Index Scan, Index Only Scan, Bitmap Heap Scan over a Bitmap Index Scan). */
  readsByIndex?: string[];
  /** No Seq Scan on a table of more than this many rows. */
  noSeqScanOver?: number;
  /** No sort spills to disk (Sort Method external merge or external sort). */
  noSortSpill?: boolean;
  /** No Nested Loop over more than this many outer rows (one execution of the statement). */
  nestedLoopOuterRowsAtMost?: number;
}

/** A plan node that broke a claim, and the statement it belongs to. */
export interface Offence {
  statement: string;
  queryId: string;
  /** The node as EXPLAIN prints it: `Seq Scan on checklist_items`. */
  node: string;
  nodeType: string;
  relation?: string;
  /** Rows the node returned in one execution of the statement (Actual Rows × Actual Loops). */
  rows: number;
  /** What makes it an offence: `40000 rows in the table`, `external merge, 2312 kB on disk`. */
  detail: string;
  /** The request whose statement it was, where known. */
  request?: string;
  /** The plan and the node themselves, to draw the plan with the node marked. */
  plan: LoggedPlan;
  at: PlanNode;
}

/** One claim judged on one endpoint's plans. */
export interface ClaimCheck {
  claim: string;
  /** The metric of its budget; the same for every endpoint, the endpoint is the budget's scope. */
  metric: string;
  /** null: nothing to judge (no plan reads the table). */
  measured: number | null;
  limit: number;
  unit: 'count';
  offences: Offence[];
  /** A line saying why, offending nodes first. */
  evidence: string;
  /** The plan of the worst offence, drawn with its offending nodes marked; absent when the claim holds. */
  example?: Omit<PlanEvidenceRecord, 'claim'>;
}

/** The nodes that read a relation by an index (a Bitmap Index Scan names the index; its Bitmap Heap Scan parent names the table). */
const INDEX_READS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);

/** Every node of a plan, the root first (init plans and sub-plans included: they are children too). */
export function* planNodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* planNodes(child);
}

/** Rows a node returned over the whole statement: EXPLAIN's Actual Rows is per loop. */
export const totalRows = (node: PlanNode): number =>
  Math.round((node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1));

const described = (node: PlanNode): string =>
  node['Relation Name'] ? `${node['Node Type']} on ${node['Relation Name']}` : node['Node Type'];

const oneLine = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

function offence(plan: LoggedPlan, node: PlanNode, rows: number, detail: string): Offence {
  return {
    statement: oneLine(plan.queryText),
    queryId: plan.queryId,
    node: described(node),
    nodeType: node['Node Type'],
    ...(node['Relation Name'] ? { relation: node['Relation Name'] } : {}),
    rows,
    detail,
    ...(plan.request ? { request: plan.request } : {}),
    plan,
    at: node,
  };
}

/** A plan as the report draws it: every node with its rows, the offending ones marked with why. */
export function planTree(node: PlanNode, offending: ReadonlyMap<PlanNode, string>): PlanTreeRecord {
  const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const relation = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  const detail = offending.get(node);
  return {
    node: `${node['Node Type']}${index}${relation}`,
    rows: totalRows(node),
    ...(detail === undefined ? {} : { offending: true, detail }),
    children: (node.Plans ?? []).map((child) => planTree(child, offending)),
  };
}

/** The worst offence's plan (most rows), with every offence of the same plan marked. */
function example(offences: Offence[]): ClaimCheck['example'] {
  const worst = offences.reduce((a, b) => (b.rows > a.rows ? b : a));
  const marked = new Map(offences.filter((o) => o.plan === worst.plan).map((o) => [o.at, o.detail]));
  return {
    ...(worst.request ? { request: worst.request } : {}),
    statement: worst.statement,
    plan: planTree(worst.plan.plan, marked),
  };
}

/** A sort that wrote to disk: its own method, or a parallel worker's, or an incremental sort's groups. */
function spilled(node: PlanNode): string | undefined {
  if (!/Sort/.test(node['Node Type'])) return undefined;
  const external = (method: unknown) => typeof method === 'string' && /^external/.test(method);
  if (external(node['Sort Method']) || node['Sort Space Type'] === 'Disk')
    return `${node['Sort Method'] ?? 'sort'}, ${node['Sort Space Used'] ?? '?'} kB on disk`;
  const worker = node.Workers?.find((w) => external(w['Sort Method']) || w['Sort Space Type'] === 'Disk');
  if (worker)
    return `${String(worker['Sort Method'])} in a parallel worker, ${String(worker['Sort Space Used'])} kB on disk`;
  for (const groups of ['Full-sort Groups', 'Pre-sorted Groups']) {
    const used = (node[groups] as { 'Sort Methods Used'?: unknown[] } | undefined)?.['Sort Methods Used'];
    if (used?.some(external)) return `${groups}: ${used.join(', ')}`;
  }
  return undefined;
}

/**
 * Offences grouped by statement and node, as a line: `SELECT … : Seq Scan on t (40000 rows in
 * the table, 20 rows out) in 12 of 12 plans (first: GET /t/7)`. Each distinct offence once, the worst first.
 */
export function describeOffences(offences: Offence[], plansByStatement: Map<string, number>): string {
  const groups = new Map<string, { first: Offence; count: number; rows: number }>();
  for (const o of offences) {
    const key = `${o.queryId}\0${o.statement}\0${o.node}`;
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.rows = Math.max(group.rows, o.rows);
    } else groups.set(key, { first: o, count: 1, rows: o.rows });
  }
  return [...groups.values()]
    .sort((a, b) => b.rows - a.rows)
    .map(
      ({ first, count, rows }) =>
        `${first.statement}: ${first.node} (${first.detail}, ${rows} rows out) in ${count} of ${plansByStatement.get(first.statement) ?? count} plans${first.request ? ` (first: ${first.request})` : ''}`,
    )
    .join('; ');
}

function plansByStatement(plans: LoggedPlan[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const plan of plans) {
    const statement = oneLine(plan.queryText);
    counts.set(statement, (counts.get(statement) ?? 0) + 1);
  }
  return counts;
}

/**
 * Judges the claims on the plans of one endpoint's requests. `tableRows` holds the rows of
 * every relation a Seq Scan read (pg_class.reltuples, or a count), for `noSeqScanOver`.
 */
export function checkPlanClaims(
  plans: LoggedPlan[],
  claims: PlanClaims,
  tableRows: ReadonlyMap<string, number>,
): ClaimCheck[] {
  const counts = plansByStatement(plans);
  const statements = `${plans.length} plan(s) of ${counts.size} statement(s)`;
  const nodes = plans.flatMap((plan) => [...planNodes(plan.plan)].map((node) => ({ plan, node })));
  const checks: ClaimCheck[] = [];
  const check = (
    claim: string,
    metric: string,
    limit: number,
    measured: number | null,
    offences: Offence[],
    clean: string,
  ) =>
    checks.push({
      claim,
      metric,
      // No plan at all proves nothing: every claim is then unjudged (null never passes).
      measured: plans.length === 0 ? null : measured,
      limit,
      unit: 'count',
      offences,
      evidence:
        plans.length === 0
          ? 'no plan was logged for these requests: did they run any statement as the role, in the database?'
          : offences.length > 0
            ? describeOffences(offences, counts)
            : clean,
      ...(offences.length > 0 ? { example: example(offences) } : {}),
    });

  for (const table of claims.readsByIndex ?? []) {
    const reads = nodes.filter(({ node }) => node['Relation Name'] === table);
    const offences = reads
      .filter(({ node }) => !INDEX_READS.has(node['Node Type']))
      .map(({ plan, node }) => offence(plan, node, totalRows(node), 'not by an index'));
    const byIndex = [
      ...new Set(reads.filter(({ node }) => INDEX_READS.has(node['Node Type'])).map(({ node }) => node['Node Type'])),
    ];
    check(
      `reads ${table} by an index`,
      `readsNotByIndex ${table}`,
      0,
      reads.length === 0 ? null : offences.length,
      offences,
      reads.length === 0
        ? `no plan reads ${table} (${statements})`
        : `${reads.length} read(s) of ${table}, all by ${byIndex.join(' or ')} (${statements})`,
    );
  }

  if (claims.noSeqScanOver !== undefined) {
    const limit = claims.noSeqScanOver;
    const scans = nodes.filter(({ node }) => node['Node Type'] === 'Seq Scan' && node['Relation Name']);
    const sized = scans.map((s) => ({ ...s, tableRows: tableRows.get(s.node['Relation Name']!) ?? 0 }));
    const offences = sized
      .filter((s) => s.tableRows > limit)
      .map((s) => offence(s.plan, s.node, totalRows(s.node), `${s.tableRows} rows in the table`));
    const largest = sized.reduce((max, s) => Math.max(max, s.tableRows), 0);
    check(
      `no Seq Scan on a table of more than ${limit} rows`,
      'seqScannedTableRows',
      limit,
      largest,
      offences,
      scans.length === 0
        ? `no Seq Scan (${statements})`
        : `Seq Scans only on tables of at most ${largest} rows (${statements})`,
    );
  }

  if (claims.noSortSpill) {
    const offences = nodes.flatMap(({ plan, node }) => {
      const spill = spilled(node);
      return spill ? [offence(plan, node, totalRows(node), spill)] : [];
    });
    const sorts = nodes.filter(({ node }) => /Sort/.test(node['Node Type'])).length;
    check(
      'no sort spills to disk',
      'sortsSpilledToDisk',
      0,
      offences.length,
      offences,
      `${sorts} sort(s), all in memory (${statements})`,
    );
  }

  if (claims.nestedLoopOuterRowsAtMost !== undefined) {
    const limit = claims.nestedLoopOuterRowsAtMost;
    const loops = nodes
      .filter(({ node }) => node['Node Type'] === 'Nested Loop')
      .map(({ plan, node }) => {
        const outer = node.Plans?.find((p) => p['Parent Relationship'] === 'Outer') ?? node.Plans?.[0];
        return { plan, node, outerRows: outer ? totalRows(outer) : 0, outer };
      });
    const offences = loops
      .filter((l) => l.outerRows > limit)
      .map((l) =>
        offence(l.plan, l.node, l.outerRows, `${l.outerRows} outer rows from ${l.outer ? described(l.outer) : '?'}`),
      );
    const largest = loops.reduce((max, l) => Math.max(max, l.outerRows), 0);
    check(
      `no nested loop over more than ${limit} outer rows`,
      'nestedLoopOuterRows',
      limit,
      largest,
      offences,
      loops.length === 0
        ? `no Nested Loop (${statements})`
        : `${loops.length} Nested Loop(s), at most ${largest} outer rows (${statements})`,
    );
  }
  return checks;
}

/** The relations Seq Scans read in these plans: whose size `noSeqScanOver` needs. */
export function seqScannedRelations(plans: LoggedPlan[]): string[] {
  const relations = new Set<string>();
  for (const plan of plans)
    for (const node of planNodes(plan.plan))
      if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) relations.add(node['Relation Name']);
  return [...relations];
}
