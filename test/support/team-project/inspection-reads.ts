// A suite as a team writes it in its own repository: everything from 'dbproof', nothing
// from dbproof's folders. test/run/team-suites.test.ts copies it into a project outside the
// package and names it in that project's config; README "Writing a suite of your own" shows it.
import {
  atMost,
  databaseUrl,
  defineSuite,
  judge,
  parseRequest,
  queryRows,
  startSuiteLoad,
  timelineRecord,
  z,
} from 'dbproof';

export default defineSuite({
  name: 'inspection-reads',
  description: 'inspections read by id answer without errors, and as fast as promised, under a steady load',
  options: z
    .object({
      /** The read; `{id}` is drawn from the ids the data set holds. */
      request: z.string().default('GET /inspections/{id}'),
      /** Requests per second (open model) and for how long. */
      rate: z.number().positive().default(20),
      durationMs: z.number().int().positive().default(2000),
      budgets: z
        .object({
          errors: z.number().int().min(0).default(0),
          p99Ms: z.number().positive().default(1000),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: {},
  async run(context, options) {
    // The data set's ids, from the primary (the superuser URL; the app's own is node.url).
    const [range] = await queryRows<{ from: number; to: number }>(
      databaseUrl(context.topology.primary.adminUrl, context.database),
      'select min(id)::int as "from", max(id)::int as "to" from inspections',
    );
    context.progress?.(`${options.request} at ${options.rate}/s for ${options.durationMs} ms`);
    const load = await startSuiteLoad({
      url: context.app.url,
      rate: options.rate,
      durationMs: options.durationMs,
      requests: [{ spec: parseRequest(options.request), ids: { from: range!.from, to: range!.to } }],
      seed: 'inspection-reads',
    });
    const { timeline, lastError } = await load.start();
    const scope = options.request;
    return {
      verdicts: [
        judge(
          `${scope} answers without errors`,
          atMost('errors', options.budgets.errors, 'count', scope),
          timeline.errors,
          lastError || undefined,
        ),
        judge(`${scope} p99 within budget`, atMost('p99', options.budgets.p99Ms, 'ms', scope), timeline.percentile(99)),
      ],
      measurements: { requests: timeline.requests, errors: timeline.errors, p99Ms: timeline.percentile(99) },
      events: [],
      timelines: [timelineRecord(`${scope} at ${options.rate}/s`, timeline)],
      notes: [`ids ${range!.from}–${range!.to} from the data set`],
    };
  },
});
