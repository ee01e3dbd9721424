import { randomBytes } from 'node:crypto';
import { UsageError } from '../../harness/errors.ts';
import { databaseUrl, withClient } from '../../harness/pg/client.ts';
import { defineSuite, Session, type SuiteContext } from '../../harness/suite/index.ts';
import { badPlaces } from './batches.ts';
import { measureCost } from './cost.ts';
import { AppStopped, EndpointCheck } from './endpoint-check.ts';
import { faultCases } from './faults.ts';
import { type BatchFallbackOptions, batchFallbackOptions } from './options.ts';
import { checkRead, readFallback } from './read-fallback.ts';
import { endpointResult, type EndpointResult, type Measured, readResult } from './verdicts.ts';
import { checkTable } from './table.ts';

/**
 * "Batched, with a fallback to one item at a time when the batch fails": batches with bad
 * items at chosen places (first, middle, last, two side by side, all) of each kind (unique,
 * foreign key, check, too long), each answer checked against the table by every item's key:
 * good items lost or stored twice, bad items reported stored, good ones reported failed.
 * The cost of both paths comes from pg_stat_statements; faults strike in the middle of a
 * fallback (the app's connections reset, the primary frozen), after which each good item
 * is stored once or the batch is reported failed as a whole, never partly stored.
 */
export const batchFallback = defineSuite({
  name: 'batch-fallback',
  description:
    'batches with bad items: good items stored once, every item reported as it ended, the fallback cheap enough, never partly stored when a fault cuts it',
  options: batchFallbackOptions,
  requires: {},
  preflight(options, topology) {
    if (topology.provider === 'external' && options.faults.freeze)
      throw new UsageError(
        'suite batch-fallback: faults.freeze stops the primary, which an external cluster does not let dbproof do: set faults: { freeze: false }, or run it with --provider native or containers',
      );
  },
  async run(context, options) {
    const run = randomBytes(3).toString('hex');
    const watch = {
      nodes: [context.topology.primary, ...context.topology.replicas].map((n) => ({
        name: n.name,
        adminUrl: n.adminUrl,
      })),
      role: decodeURIComponent(new URL(context.links.writer.url).username),
      database: context.database,
    };
    return withClient(databaseUrl(context.topology.primary.adminUrl, context.database), async (client) => {
      // dbproof's own lookups stay out of the statistics the cost is read from.
      await client.query('SET pg_stat_statements.track = none').catch(() => {});
      const checks = options.endpoints.map(
        (endpoint) => new EndpointCheck(endpoint, new Session(context.app.url, options.requestTimeoutMs), client, run),
      );
      // Nothing is sent before every table and endpoint is known to fit the options.
      for (const check of checks) await checkTable(client, check.endpoint, options.kinds, context.database);
      for (const check of checks) await check.probe();
      for (const read of options.reads) await checkRead(context, read, options.requestTimeoutMs);
      const results = [];
      for (const check of checks) results.push(await checkEndpoint(check, context, watch, options));
      for (const read of options.reads) {
        context.progress?.(`${read.request}: its batched statement cancelled ${read.times} times`);
        results.push(
          readResult(read, await readFallback(context, read, watch.role, options.requestTimeoutMs), options),
        );
      }
      return {
        verdicts: results.flatMap((r) => r.verdicts),
        measurements: Object.assign({}, ...results.map((r) => r.measurements)),
        events: results.flatMap((r) => r.events),
        timelines: [],
        findings: results.flatMap((r) => r.findings),
        notes: [
          ...results.flatMap((r) => r.notes),
          `items looked up in the table by key after each answer; statements from pg_stat_statements for role ${watch.role} on every node (a statement that fails is not counted there: nor is the batch's failed INSERT)`,
        ],
      };
    });
  },
});

/** Everything one endpoint is put through, in order; what an app that stopped answering left unmeasured stays so. */
async function checkEndpoint(
  check: EndpointCheck,
  context: SuiteContext,
  watch: Parameters<typeof measureCost>[1],
  options: BatchFallbackOptions,
): Promise<EndpointResult> {
  const { request } = check.endpoint;
  // The cost and the faults are measured with one bad item of a kind that needs no holder, where there is one.
  const costKind = options.kinds.find((k) => k !== 'unique') ?? options.kinds[0]!;
  const measured: Measured = { tally: check.tally };
  try {
    if (options.kinds.includes('unique')) await check.storeUniqueHolder();
    context.progress?.(`${request}: the cost of batches of ${options.costSizes.join(' and ')}, happy and falling back`);
    measured.cost = await measureCost(check, watch, options.costSizes, options.repeats, costKind);
    context.progress?.(
      `${request}: bad items (${options.kinds.join(', ')}) at ${options.positions.join(', ')} in batches of ${options.batchSize}`,
    );
    for (const position of options.positions)
      for (const kind of options.kinds) {
        const bad = new Map(badPlaces(position, options.batchSize).map((place) => [place, kind]));
        await check.sendAndJudge(check.maker.make(`${position} ${kind}`, options.batchSize, bad));
      }
    if (options.resend) {
      const middle = new Map([[Math.floor(options.batchSize / 2), costKind]]);
      const batch = check.maker.make('sent twice', options.batchSize, middle);
      await check.sendAndJudge(batch);
      await check.sendAndJudge({ ...batch, name: 'sent twice, again' });
    }
    if (options.faults.kill || options.faults.freeze) {
      const what = [
        options.faults.kill && 'connections reset',
        options.faults.freeze && `the primary frozen ${options.faults.freezeMs} ms`,
      ];
      context.progress?.(`${request}: ${what.filter(Boolean).join(', then ')} in the middle of a fallback`);
      measured.faults = await faultCases(check, context, watch, options, costKind);
    }
  } catch (error) {
    if (!(error instanceof AppStopped)) throw error;
    measured.stopped = error.message;
  }
  return endpointResult(request, measured, options);
}
