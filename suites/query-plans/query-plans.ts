import pg from 'pg';
import { z } from 'zod';
import { atLeast, atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import { loadParser, queryShape } from '../../harness/capture/fingerprint.ts';
import { checkPlanClaims, seqScannedRelations, type PlanClaims } from '../../harness/capture/plan-claims.ts';
import { withPlanCapture, type PlanNodeAccess } from '../../harness/capture/plan-capture.ts';
import type { ExecutedStatement, LoggedPlan } from '../../harness/capture/server-log.ts';
import {
  copyAppIndexes,
  describeScaling,
  measureRung,
  fitLadder,
  type MeasuredRung,
} from '../../harness/capture/scaling.ts';
import { describeSpeedUp, findIndex, measureSpeedUp, type SpeedUp } from '../../harness/capture/speed-up.ts';
import { DbproofError, UsageError } from '../../harness/errors.ts';
import { requestString } from '../../harness/http/request.ts';
import { runScenario } from '../../load/scenario.ts';
import { parseRequest, Session } from '../../harness/http/session.ts';
import { databaseUrl, queryRows } from '../../harness/pg/client.ts';
import { idDistribution, Rng } from '../../harness/random/index.ts';
import type { PlanEvidenceRecord } from '../../harness/results/schema.ts';
import { defineSuite } from '../../harness/suite/index.ts';
import type { PgNode } from '../../harness/topology/types.ts';
import { ids } from '../support/options.ts';

const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'a table name, e.g. inspections');

const speedUp = z
  .object({
    /** The index to drop (in a transaction rolled back) for the comparison: the way to run without it. */
    index: z
      .string({
        error:
          "name the index to compare with and without, e.g. speedUp: { index: 'orders_customer_id_idx', atLeast: 30 }",
      })
      .min(1),
    /** The least speed-up claimed: the interval's lower bound must reach it. */
    atLeast: z.number().gt(1),
    /** Rounds counted (each times every statement with and without the index), after one pass comparing their answers. */
    repeats: z.number().int().min(5).max(100).default(10),
    /**
     * recall@k: the share of the exact answer (without the index) the statements return with it,
     * averaged; 1 for an exact index (cube's GiST), less for an approximate one (pgvector's HNSW).
     */
    recallAtLeast: z.number().gt(0).max(1).optional(),
  })
  .strict();

const scaling = z
  .object({
    /**
     * The data set's scales to run the endpoint's statements at (the config's data set seeded
     * again at each, in a database of the suite's own): 2 or more, e.g. [0.01, 0.1, 1].
     */
    ladder: z
      .array(z.number().positive().max(100))
      .min(2, 'a ladder needs at least 2 sizes to fit a growth, e.g. ladder: [0.01, 0.1, 1]')
      .max(6)
      .refine((l) => new Set(l).size === l.length, 'the ladder names a size twice: give each scale once'),
    /**
     * The largest growth allowed, as the log–log slope of shared buffers per execution against
     * the rows of the tables read: 0 flat (an index lookup), 1 in proportion (a scan).
     */
    slopeAtMost: z.number().min(0).max(3).default(0.3),
  })
  .strict();

const claims = z
  .object({
    /** Tables the endpoint reads by an index only (Index Scan, Index Only Scan, Bitmap Index Scan): a property, never an index's name. */
    readsByIndex: z.array(tableName).min(1).max(20).optional(),
    /** No Seq Scan on a table of more than this many rows (pg_class.reltuples, or a count where the table was never analysed). */
    noSeqScanOver: z.number().int().min(0).optional(),
    /** No sort spills to disk (Sort Method external merge / external sort: work_mem too small for it). */
    noSortSpill: z.boolean().optional(),
    /** No Nested Loop over more than this many outer rows in one execution of a statement. */
    nestedLoopOuterRowsAtMost: z.number().int().min(0).optional(),
    /** The 99th percentile of the statements' execution times (auto_explain's duration of each, one request at a time). */
    statementP99Ms: z.number().positive().optional(),
    /** With `index`, the statements at least `atLeast`× faster than without it (the lower bound of a 95 % interval). */
    speedUp: speedUp.optional(),
    /** The work per execution stays flat as the data grows: the statements run again at each size of a ladder. */
    scaling: scaling.optional(),
  })
  .strict()
  .refine(
    (c) => Object.values(c).some((v) => v !== undefined && v !== false),
    "state at least one claim, e.g. { readsByIndex: ['orders'], noSeqScanOver: 1000 }",
  );

const endpoint = z
  .object({
    /** The request, `{id}` drawn from `ids`: 'GET /inspections/{id}/checklist'. */
    request: requestString(),
    /** A JSON body for POST/PUT/PATCH; its strings may hold `{id}` too. */
    body: z.unknown().optional(),
    /** Where `{id}` is drawn from (Zipf with `skew`, uniform with 0). */
    ids,
    /** Requests whose plans are judged, one at a time (after one warm-up request, not judged). */
    requests: z.number().int().min(1).max(500).default(10),
    claims,
  })
  .strict();

/**
 * The reference app's endpoints with good plans (README, "The reference app"), with the claims
 * that hold on the demo's data (scale 0.002: 80 inspections, ~1,600 items and media). On tables
 * that small a Seq Scan is the right plan, so the demo does not claim `inspections` is read by
 * an index; the suite's test claims it on 2,000 inspections, where it matters.
 */
const REFERENCE_ENDPOINTS: z.input<typeof endpoint>[] = [
  {
    request: 'GET /inspections/{id}/checklist',
    claims: { readsByIndex: ['checklist_items'], noSeqScanOver: 5000, nestedLoopOuterRowsAtMost: 100 },
  },
  {
    request: 'GET /inspections/recent?status=completed&limit=20',
    requests: 5,
    claims: { noSeqScanOver: 5000, nestedLoopOuterRowsAtMost: 100 },
  },
  { request: 'GET /media/recent?limit=20', requests: 5, claims: { readsByIndex: ['media'], noSortSpill: true } },
];

const options = z
  .object({
    /** Each endpoint with the requests to send and the claims its statements' plans must hold. */
    endpoints: z
      .array(endpoint)
      .min(
        1,
        "name at least one endpoint with its claims, e.g. [{ request: 'GET /orders/{id}', claims: { readsByIndex: ['orders'] } }]",
      )
      .max(20)
      .prefault(REFERENCE_ENDPOINTS),
    /** The role the app connects as: only its statements' plans are judged. */
    role: z.string().min(1).default('app'),
    /**
     * A load scenario of the config: after the endpoints' requests, it runs with the plans
     * still captured, and `statementP99Ms` is judged on every execution of each endpoint's
     * statements (by query id) under that load instead of on the requests sent one at a time.
     */
    underLoad: z.string().min(1).optional(),
  })
  .strict()
  .refine((o) => o.underLoad === undefined || o.endpoints.some((e) => e.claims.statementP99Ms !== undefined), {
    message:
      'underLoad judges statementP99Ms under the scenario: claim it on an endpoint, e.g. claims: { statementP99Ms: 50 }',
    path: ['underLoad'],
  });

type Options = z.output<typeof options>;

/** Nearest-rank percentile; null of nothing. */
function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** The slowest execution, its statement normalised by the parser: a statement sent with inline values shows none. */
const slowest = (plans: LoggedPlan[]): string => {
  const plan = plans.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
  const text = queryShape(plan.queryText).normalized.replace(/\s+/g, ' ').trim().slice(0, 160);
  return `${plan.durationMs} ms: ${text}${plan.request ? ` (${plan.request})` : ''}`;
};

const noScenario = (name: string, scenarios: readonly string[]) =>
  new UsageError(
    `invalid option suites.query-plans.underLoad: no load scenario "${name}" in the config (${
      scenarios.join(', ') || 'it has none'
    }); name one of its scenarios, or add it under scenarios`,
  );

const noDatasetToSeed = () =>
  new UsageError(
    "suite query-plans: a scaling claim seeds the run's data set again at each size of its ladder, and this run has none to seed (set dataset in the config; an external cluster is never seeded beyond the app's database)",
  );

/** The nodes the app uses, each with its server log; a provider that cannot read one is refused. */
function nodesWithLogs(nodes: PgNode[]): PlanNodeAccess[] {
  return nodes.map((node) => {
    if (!node.serverLog)
      throw new UsageError(
        `suite query-plans reads ${node.name}'s server log, which this topology cannot give: use --provider native, containers or compose`,
      );
    return { name: node.name, adminUrl: node.adminUrl, serverLog: node.serverLog };
  });
}

/** Every table a claim names exists in the app's database: checked before any request is sent. */
async function checkTablesExist(url: string, database: string, endpoints: Options['endpoints']): Promise<void> {
  const named = [...new Set(endpoints.flatMap((e) => e.claims.readsByIndex ?? []))];
  if (named.length === 0) return;
  const rows = await queryRows<{ relname: string }>(
    url,
    "SELECT relname FROM pg_class WHERE relname = ANY($1::text[]) AND relkind IN ('r', 'p', 'm')",
    [named],
  );
  const found = new Set(rows.map((r) => r.relname));
  endpoints.forEach((e, i) => {
    const missing = (e.claims.readsByIndex ?? []).find((t) => !found.has(t));
    if (missing)
      throw new UsageError(
        `invalid option suites.query-plans.endpoints.${i}.claims.readsByIndex: no table "${missing}" in the app's database ${database}; name a table ${e.request} reads`,
      );
  });
}

/** Rows of each table (pg_class.reltuples; a count where it was never analysed, -1). */
async function tableRows(url: string, tables: string[]): Promise<Map<string, number>> {
  if (tables.length === 0) return new Map();
  const rows = await queryRows<{ relname: string; reltuples: number }>(
    url,
    "SELECT relname, reltuples::float8 AS reltuples FROM pg_class WHERE relname = ANY($1::text[]) AND relkind IN ('r', 'p', 'm')",
    [tables],
  );
  const sizes = new Map<string, number>();
  for (const { relname, reltuples } of rows) {
    if (reltuples >= 0) sizes.set(relname, Math.round(reltuples));
    else {
      const [count] = await queryRows<{ n: string }>(url, `SELECT count(*) AS n FROM ${pg.escapeIdentifier(relname)}`);
      sizes.set(relname, Number(count!.n));
    }
  }
  return sizes;
}

/**
 * "Uses the index", "no sequential scans on hot tables": each endpoint's requests are sent one
 * at a time while auto_explain logs every statement's plan (with actual rows) on every node the
 * app uses; the plans of the app's role in its database are read back from each node's server
 * log and the claims judged on them, as properties of the plan (never an index's name). Works
 * for any app, driver or language.
 */
export const queryPlans = defineSuite({
  name: 'query-plans',
  description: "each endpoint's statements run with the plans claimed: by an index, no big Seq Scan, no sort on disk",
  options,
  requires: {},
  preflight(options, topology, where) {
    if (topology.provider === 'external')
      throw new UsageError(
        'suite query-plans reads each node’s server log, which an external cluster does not give dbproof: run it with --provider native or containers',
      );
    // A compose stack: dbproof's docker-compose.yml loads auto_explain and logs dbproof's prefix; a
    // team's own file (compose.file) is checked node by node when the capture starts, before any request.
    // What the config alone says, before anything starts (the run checks again for a caller without a plan).
    if (options.underLoad !== undefined && where?.scenarios && !where.scenarios.includes(options.underLoad))
      throw noScenario(options.underLoad, where.scenarios);
    if (where?.dataset === false && options.endpoints.some((e) => e.claims.scaling)) throw noDatasetToSeed();
    const settings = topology.postgres?.settings ?? {};
    const preload = settings.shared_preload_libraries;
    if (
      preload !== undefined &&
      !String(preload)
        .split(',')
        .map((l) => l.trim())
        .includes('auto_explain')
    )
      throw new UsageError(
        `suite query-plans needs auto_explain, which topology.postgres.settings.shared_preload_libraries ('${String(preload)}') leaves out: add it ('pg_stat_statements,auto_explain')`,
      );
    // A setting on the server's command line wins over ALTER SYSTEM: the suite could not turn plan logging on,
    // nor, for a speed-up claim, the logging of each statement with its parameters.
    const speedUps = options.endpoints.some((e) => e.claims.speedUp || e.claims.scaling);
    const fixed = Object.keys(settings).find(
      (name) => name.startsWith('auto_explain.') || (speedUps && name === 'log_min_duration_statement'),
    );
    if (fixed)
      throw new UsageError(
        fixed === 'log_min_duration_statement'
          ? 'suite query-plans logs each statement with its parameters for a speed-up or scaling claim (log_min_duration_statement 0 while it runs): remove log_min_duration_statement from topology.postgres.settings'
          : `suite query-plans turns auto_explain on and off itself: remove ${fixed} from topology.postgres.settings`,
      );
  },
  async run(context, options) {
    const nodes = nodesWithLogs([context.topology.primary, ...context.topology.replicas]);
    await loadParser();
    const appDatabase = databaseUrl(context.topology.primary.adminUrl, context.database);
    await checkTablesExist(appDatabase, context.database, options.endpoints);
    const loadScenario = options.underLoad === undefined ? undefined : context.scenarios?.[options.underLoad];
    if (options.underLoad !== undefined && !loadScenario)
      throw noScenario(options.underLoad, Object.keys(context.scenarios ?? {}));
    const ladders = options.endpoints.some((e) => e.claims.scaling);
    if (ladders && !context.seedAt) throw noDatasetToSeed();
    const indexes = await Promise.all(
      options.endpoints.map((e, i) =>
        e.claims.speedUp
          ? findIndex(
              appDatabase,
              e.claims.speedUp.index,
              `invalid option suites.query-plans.endpoints.${i}.claims.speedUp.index`,
            )
          : undefined,
      ),
    );
    const session = new Session(context.app.url);
    const rng = new Rng(16, 'query-plans');
    // The plans of every statement run while the scenario's load ran, and its result (its achieved rate).
    const underLoad: { plans: LoggedPlan[]; result?: { rps: number; requests: number } } = { plans: [] };
    const captured: {
      request: string;
      plans: LoggedPlan[];
      executed: ExecutedStatement[];
      unreadable: number;
      failed: string[];
    }[] = [];

    await withPlanCapture(
      nodes,
      async (capture) => {
        for (const e of options.endpoints) {
          const spec = parseRequest(e.request, e.body);
          const draw = idDistribution(e.ids);
          // A pooled connection of the app takes the new settings at its next statement: this request warms it.
          const warmUp = await session.send(spec, { id: draw.sample(rng) });
          if (warmUp.status === 404)
            throw new DbproofError(`suite query-plans: ${e.request} answered 404: is it an endpoint of the app?`);
          context.progress?.(`${e.request}: ${e.requests} request(s) with plan capture`);
          const failed: string[] = [];
          const plans: LoggedPlan[] = [];
          const executed: ExecutedStatement[] = [];
          let unreadable = 0;
          // One request at a time, each read back on its own: a plan names the request that caused it.
          for (let i = 0; i < e.requests; i++) {
            const id = draw.sample(rng);
            const request = `${spec.method} ${spec.path.replaceAll('{id}', String(id))}`;
            const read = await capture.plans(
              async () => {
                const answer = await session.send(spec, { id });
                if (answer.status >= 400) failed.push(`${request}: HTTP ${answer.status}`);
              },
              options.role,
              context.database,
            );
            plans.push(...read.plans.map((plan) => ({ ...plan, request })));
            executed.push(...read.executed);
            unreadable += read.unreadable;
          }
          captured.push({ request: e.request, plans, executed, unreadable, failed });
        }
        if (loadScenario) {
          context.progress?.(`scenario ${options.underLoad}: its load with plan capture`);
          const read = await capture.plans(
            async () => {
              underLoad.result = await runScenario(
                context.app.urls ?? context.app.url,
                options.underLoad!,
                loadScenario,
              );
            },
            options.role,
            context.database,
          );
          underLoad.plans = read.plans;
        }
      },
      { statements: ladders || indexes.some((i) => i !== undefined) },
    );

    // Timed after the capture: auto_explain is off again, and no request of the suite waits on the dropped index's lock.
    const speedUps = new Map<number, SpeedUp>();
    for (const [i, e] of options.endpoints.entries()) {
      const found = indexes[i];
      if (!found || !e.claims.speedUp) continue;
      context.progress?.(`${e.request}: statements timed with and without ${found.index}`);
      const executed = captured[i]!.executed;
      if (executed.length > 0)
        speedUps.set(
          i,
          await measureSpeedUp(appDatabase, found, executed, { repeats: e.claims.speedUp.repeats, seed: 16 }),
        );
    }

    // Each size seeded once for every endpoint that claims it, measured, and dropped.
    const ladderRungs = new Map<number, MeasuredRung[]>();
    const undropped: string[] = [];
    const scales = [...new Set(options.endpoints.flatMap((e) => e.claims.scaling?.ladder ?? []))].sort((a, b) => a - b);
    for (const scale of scales) {
      const seeded = await context.seedAt!(scale);
      try {
        const url = databaseUrl(context.topology.primary.adminUrl, seeded.name);
        const made = await copyAppIndexes(appDatabase, url);
        context.progress?.(
          `scale ${scale}: the app's ${made.length} index(es) of its own made there too; statements run under EXPLAIN (ANALYZE, BUFFERS)`,
        );
        for (const [i, e] of options.endpoints.entries()) {
          if (!e.claims.scaling?.ladder.includes(scale)) continue;
          const rungs = ladderRungs.get(i) ?? [];
          rungs.push(await measureRung(url, scale, options.role, captured[i]!.executed));
          ladderRungs.set(i, rungs);
        }
      } finally {
        // Not dropped: said in the notes (it goes with a topology dbproof started, at the latest).
        await seeded.drop().catch((error: Error) => undropped.push(`${seeded.name} (${error.message})`));
      }
    }

    const sizes = await tableRows(appDatabase, [...new Set(captured.flatMap((c) => seqScannedRelations(c.plans)))]);
    const verdicts: Verdict[] = [];
    const evidence: PlanEvidenceRecord[] = [];
    const measurements: Record<string, number | null> = {};
    const notes: string[] = [];
    options.endpoints.forEach((e, i) => {
      const { request, plans, unreadable, failed } = captured[i]!;
      measurements[`plans ${request}`] = plans.length;
      if (unreadable > 0) notes.push(`${request}: ${unreadable} plan message(s) in the log could not be read`);
      const failures = failed.length > 0 ? `; ${failed.length} of ${e.requests} requests failed (${failed[0]})` : '';
      for (const check of checkPlanClaims(plans, e.claims as PlanClaims, sizes)) {
        measurements[`${check.metric} ${request}`] = check.measured;
        if (check.example) evidence.push({ claim: `${request} ${check.claim}`, ...check.example });
        verdicts.push(
          judge(
            `${request} ${check.claim}`,
            atMost(check.metric, check.limit, check.unit, request),
            check.measured,
            `${check.evidence}${failures}`,
          ),
        );
      }
      if (e.claims.statementP99Ms !== undefined) {
        // Under load: every execution of the statements (by query id) this endpoint ran one at a time.
        // Query id 0: compute_query_id off, every statement alike; such plans cannot be matched.
        const shapes = new Set(plans.map((p) => p.queryId).filter((id) => id !== '0'));
        const judged = options.underLoad ? underLoad.plans.filter((p) => shapes.has(p.queryId)) : plans;
        const p99 = percentile(
          judged.map((p) => p.durationMs),
          0.99,
        );
        measurements[`statementP99Ms ${request}`] = p99;
        const where = options.underLoad
          ? ` under scenario ${options.underLoad} (${underLoad.result?.requests ?? 0} requests at ${underLoad.result?.rps ?? 0}/s achieved), the ${shapes.size} statement shape(s) it ran`
          : '';
        verdicts.push(
          judge(
            `${request} statements' p99 at most ${e.claims.statementP99Ms} ms${options.underLoad ? ` under scenario ${options.underLoad}` : ''}`,
            atMost('statementP99Ms', e.claims.statementP99Ms, 'ms', request),
            p99,
            p99 === null
              ? options.underLoad && shapes.size === 0 && plans.length > 0
                ? `the plans carry no query id (compute_query_id off on the nodes), so the statements under load cannot be matched to ${request}: set compute_query_id = on`
                : `no plan was logged for these requests${where}`
              : `p99 of ${judged.length} statement execution(s)${where} as auto_explain timed them (log_timing off), slowest ${slowest(judged)}${failures}`,
          ),
        );
      }
      if (e.claims.scaling) {
        const fit = fitLadder(ladderRungs.get(i) ?? []);
        measurements[`scalingSlope ${request}`] = fit.slope;
        verdicts.push(
          judge(
            `${request} does as much work per execution at every size (buffers' log–log slope at most ${e.claims.scaling.slopeAtMost})`,
            atMost('scalingSlope', e.claims.scaling.slopeAtMost, 'ratio', request),
            fit.slope,
            describeScaling(fit),
          ),
        );
      }
      if (e.claims.speedUp) {
        const measured = speedUps.get(i);
        if (measured) {
          measurements[`speedUp ${request}`] = measured.ratio;
          measurements[`speedUpLowerBound ${request}`] = measured.lower;
        }
        verdicts.push(
          judge(
            `${request} at least ${e.claims.speedUp.atLeast}× faster with ${e.claims.speedUp.index} than without`,
            atLeast('speedUpLowerBound', e.claims.speedUp.atLeast, 'count', request),
            measured && measured.statements > 0 ? measured.lower : null,
            measured && measured.statements > 0
              ? describeSpeedUp(measured)
              : 'no statement with its parameters was logged for these requests: nothing to time',
          ),
        );
        const recallAtLeast = e.claims.speedUp.recallAtLeast;
        if (recallAtLeast !== undefined) {
          if (measured) measurements[`recallAtK ${request}`] = measured.recall;
          const worst = measured?.worstRecall;
          verdicts.push(
            judge(
              `${request} returns at least ${recallAtLeast * 100} % of the exact answer with ${e.claims.speedUp.index} (recall@k)`,
              atLeast('recallAtK', recallAtLeast, 'ratio', request),
              measured && measured.statements > 0 ? measured.recall : null,
              measured && measured.statements > 0
                ? `mean recall@k of ${measured.statements} statement(s) against the same statements without the index (an exact scan); least ${Math.round(worst!.recall * 1000) / 10} %: ${worst!.statement.replace(/\s+/g, ' ').slice(0, 160)}`
                : 'no statement with its parameters was logged for these requests: nothing to compare',
            ),
          );
        }
      }
    });
    if (undropped.length) notes.push(`size ladder databases not dropped: ${undropped.join(', ')}`);
    notes.push(
      `plans logged by auto_explain (log_analyze, log_timing off) on ${nodes.map((n) => n.name).join(', ')} for role ${options.role} in ${context.database}, read from each node's server log; one warm-up request per endpoint not judged`,
    );
    return { verdicts, measurements, events: [], timelines: [], notes, plans: evidence };
  },
});
