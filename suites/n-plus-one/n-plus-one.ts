import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { checkEndpoint } from '../../harness/capture/n1.ts';
import { parseRequestLine, requestString } from '../../harness/http/request.ts';
import { defineSuite } from '../../harness/suite/index.ts';

const endpointRules = {
  methods: ['GET'],
  placeholder: 'K',
  hint: "a GET request with {K} where the size goes, e.g. 'GET /orders?limit={K}'",
} as const;
const endpoint = requestString(endpointRules);

/**
 * "N+1 queries eliminated": each endpoint is requested at increasing sizes, one request at
 * a time, and every statement the database ran for the app's role is attributed to the
 * request (pg_stat_statements on every node: any language, any driver). A statement whose
 * count grows with the size is an N+1; the verdict is the statements added per extra item.
 */
export const nPlusOne = defineSuite({
  name: 'n-plus-one',
  description: 'each endpoint runs the same statements at every size: no query per item (N+1)',
  options: z
    .object({
      endpoints: z
        .array(endpoint)
        .min(1)
        .max(50)
        .default(['GET /inspections-joined?limit={K}', 'GET /dashboard?limit={K}']),
      /** Increasing sizes put in {K}. */
      sizes: z
        .array(z.number().int().min(1).max(100_000))
        .min(2)
        .max(10)
        .refine(
          (sizes) => sizes.every((size, i) => i === 0 || size > sizes[i - 1]!),
          'give increasing sizes, e.g. [5, 25]',
        )
        .default([5, 25]),
      /** The role the app connects as (its statements are the ones counted). */
      role: z.string().min(1).default('app'),
      /** Measured requests per size (the fewest statements count: a connection's set-up is not a pattern). */
      repeats: z.number().int().min(1).max(20).default(2),
      budgets: z
        .object({
          /** Statements added per extra item, at most (0: none may grow with the size). */
          statementsPerItem: z.number().min(0).default(0),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: {},
  async run(context, options) {
    const nodes = [context.topology.primary, ...context.topology.replicas].map((node) => ({
      name: node.name,
      adminUrl: node.adminUrl,
    }));
    const verdicts = [];
    const findings = [];
    const measurements: Record<string, number | null> = {};
    for (const request of options.endpoints) {
      const { path } = parseRequestLine(request, endpointRules);
      context.progress?.(`${request} at sizes ${options.sizes.join(', ')}`);
      const report = await checkEndpoint({
        urlsBySize: new Map(
          options.sizes.map((size) => [size, `${context.app.url}${path.replaceAll('{K}', String(size))}`]),
        ),
        nodes,
        role: options.role,
        database: context.database,
        repeats: options.repeats,
        operation: request,
      });
      // No statement seen at all (the role is not the app's, the endpoint answers from a
      // cache or touches no database): nothing shows the queries do not grow, so the claim is
      // not judged a pass.
      const seen = report.shapes.length > 0;
      const worst = seen ? report.findings.reduce((max, f) => Math.max(max, f.slope), 0) : null;
      measurements[`statementsPerItem ${request}`] = worst;
      measurements[`queryShapes ${request}`] = report.shapes.length;
      findings.push(
        ...report.findings.map((f) => ({
          operation: request,
          exampleSql: f.exampleSql,
          countsBySize: Object.fromEntries(Object.entries(f.countsBySize).map(([k, v]) => [String(k), v])),
          slope: f.slope,
          hint: f.hint,
          ...(f.site ? { site: f.site } : {}),
        })),
      );
      const evidence = !seen
        ? `no statement ran as role '${options.role}' in database '${context.database}' while ${request} was called: is the role the app's (option role), and does the endpoint query the database?`
        : report.findings.length
          ? report.findings
              .map(
                (f) =>
                  `${f.exampleSql.replace(/\s+/g, ' ')} ran ${options.sizes.map((s) => f.countsBySize[s]).join(' → ')} times at sizes ${options.sizes.join(' → ')}`,
              )
              .join('; ')
          : `${report.shapes.length} statement shape(s), each run as often at every size`;
      verdicts.push(
        judge(
          `${request} runs no query per item (N+1)`,
          atMost('statementsPerItem', options.budgets.statementsPerItem, 'count', request),
          worst,
          evidence,
        ),
      );
    }
    return {
      verdicts,
      measurements,
      events: [],
      timelines: [],
      findings,
      notes: [
        `statements counted per request from pg_stat_statements on every node for role ${options.role}, the fewest of ${options.repeats} requests per size after a warm-up request`,
      ],
    };
  },
});
