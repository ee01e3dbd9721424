import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { requestString } from '../../harness/http/request.ts';
import { defineSuite, LastError, parseRequest, Session, timelineRecord } from '../../harness/suite/index.ts';
import { pollUntil } from '../../harness/wait.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import { count, ms } from '../support/options.ts';
import { appConnections } from './app-connections.ts';

const weightedRequest = z
  .object({
    request: requestString(),
    weight: z.number().positive().default(1),
    /** Statuses that count as answered as expected (default: any 2xx), e.g. [400] for a request that is meant to be refused. */
    expect: z.array(z.number().int().min(100).max(599)).optional(),
  })
  .strict();

/**
 * More concurrent requests than the app has pooled connections: they must queue, not
 * fail, and the queueing is measured. Some requests end in a database error on purpose
 * (a bad search pattern): a pool that forgets to return a connection on an error leaks
 * it, and after the load the app's connections in pg_stat_activity stay above where
 * they were before.
 */
export const poolExhaustion = defineSuite({
  name: 'pool',
  description:
    'more concurrent requests than pooled connections: errors within budget, queueing measured, connections back to their baseline afterwards',
  options: z
    .object({
      requests: z
        .array(weightedRequest)
        .min(1)
        .default([
          { request: 'GET /slow?ms=40', weight: 9 },
          { request: 'GET /search?q=%28', weight: 1, expect: [400] },
        ]),
      /** Concurrent clients (closed model): several times the app's pool size. */
      connections: z.number().int().min(1).max(1000).default(40),
      durationMs: ms(4000),
      /** A request not answered in this time is an error (a pool that hangs must not hang the suite). */
      requestTimeoutMs: ms(3000),
      /** How long the app's idle connections may take to go after the load. */
      settleMs: ms(3000),
      budgets: z
        .object({
          errors: count(0),
          /** p99 under load minus the unloaded median of the first request: the wait for a connection. */
          queueP99Ms: ms(1000),
          /** Connections above the baseline once `settleMs` has passed. */
          leakedConnections: count(0),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: {},
  async run(context, options) {
    const role = decodeURIComponent(new URL(context.links.writer.url).username);
    const mix = options.requests.map((r) => ({ ...r, spec: parseRequest(r.request) }));

    // Unloaded: one request at a time, after the app's connections have settled.
    const first = mix[0]!;
    const alone = new Session(context.app.url, options.requestTimeoutMs);
    const unloaded: number[] = [];
    for (let i = 0; i < 10; i++) {
      const at = performance.now();
      await alone.expectOk(first.spec, {}, first.expect);
      unloaded.push(performance.now() - at);
    }
    const unloadedP50Ms = unloaded.sort((a, b) => a - b)[5]!;
    const baseline = await settledConnections(context, role, options.settleMs, Infinity);

    const lastError = new LastError();
    const load = await startSuiteLoad({
      url: context.app.url,
      connections: options.connections,
      durationMs: options.durationMs,
      bucketMs: 250,
      timeoutMs: options.requestTimeoutMs,
      requests: mix.map((entry) => ({ spec: entry.spec, weight: entry.weight, expect: entry.expect })),
      seed: 'pool',
    });
    context.progress?.(
      `${options.connections} clients for ${options.durationMs} ms on ${mix.map((r) => r.request).join(', ')}`,
    );
    const { timeline, lastError: last } = await load.start();
    lastError.message = last;
    const after = await settledConnections(context, role, options.settleMs, baseline.count);
    const loadedP99Ms = timeline.percentile(99);
    const queueP99Ms = Math.max(0, loadedP99Ms - unloadedP50Ms);
    const leaked = Math.max(0, after.count - baseline.count);
    return {
      verdicts: [
        judge(
          `${options.connections} concurrent clients are served without errors`,
          atMost('errors', options.budgets.errors, 'count', first.request),
          timeline.errors,
          lastError.evidence,
        ),
        judge(
          'the wait for a pooled connection stays within budget',
          atMost('queueP99Ms', options.budgets.queueP99Ms, 'ms', first.request),
          queueP99Ms,
          `p99 under load ${Math.round(loadedP99Ms)} ms, unloaded median ${Math.round(unloadedP50Ms)} ms`,
        ),
        judge(
          `the app's connections return to their baseline within ${options.settleMs} ms`,
          atMost('leakedConnections', options.budgets.leakedConnections, 'count'),
          leaked,
          `baseline ${baseline.count}, after the load ${after.count} (pg_stat_activity, role ${role}, database ${context.database})`,
        ),
      ],
      measurements: {
        requests: timeline.requests,
        errors: timeline.errors,
        unloadedP50Ms,
        loadedP50Ms: timeline.percentile(50),
        loadedP99Ms,
        queueP99Ms,
        baselineConnections: baseline.count,
        connectionsAfterLoad: after.count,
        leakedConnections: leaked,
        settledAfterMs: after.waitedMs,
      },
      events: [],
      timelines: [timelineRecord(`${options.connections} clients, closed model`, timeline)],
      notes: [
        'queueing latency = p99 under load − median of 10 unloaded requests of the first kind; connections counted on every node',
      ],
    };
  },
});

/** Polls the app's connections until they are at most `target` (or `settleMs` has passed): the lowest seen. */
async function settledConnections(
  context: Parameters<typeof poolExhaustion.run>[0],
  role: string,
  settleMs: number,
  target: number,
): Promise<{ count: number; waitedMs: number }> {
  const started = performance.now();
  let lowest = Infinity;
  // The baseline (target Infinity) waits all of settleMs, for the idle connections of the warm-up to go too.
  await pollUntil(
    async () => {
      lowest = Math.min(lowest, await appConnections(context.topology, role, context.database));
      return lowest <= target && target !== Infinity;
    },
    { timeoutMs: settleMs, intervalMs: 100 },
  );
  return { count: lowest, waitedMs: Math.round(performance.now() - started) };
}
