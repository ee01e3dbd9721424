import { EXAMPLE_SUITE } from './config-template.ts';

/**
 * The team suite `dbproof init` writes: small, and a real claim ("the list endpoint answers
 * within its p99 budget and never fails under a steady load"), written as dbproof's own
 * suites are (the load in an engine process through startSuiteLoad, verdicts with judge).
 */
export function suiteTemplate(): string {
  return `// A suite of your own: one claim about your app, measured and judged on every gate.
// Written by \`npx dbproof init\`; the config names it in suites: (its key is the suite's
// name) with its options. Copy it for the next claim: a suite is given the started topology
// (context.topology, context.links for faults), the app's URL and its database.
import { atMost, defineSuite, judge, parseRequest, startSuiteLoad, timelineRecord, z } from 'dbproof';

export default defineSuite({
  name: '${EXAMPLE_SUITE}',
  description: 'the list endpoint answers within its p99 budget and never fails under a steady load',
  // Validated before anything starts: a typo in the config costs no topology.
  options: z
    .object({
      /** The request: '<METHOD> /path'. */
      request: z.string().default('GET /items?limit=20'),
      /** Requests per second, open model: each due on schedule, however slowly the app answers. */
      rate: z.number().positive().max(10_000).default(20),
      durationMs: z.number().int().min(1000).max(600_000).default(5000),
      budgets: z
        .object({
          /** The p99 latency, at most (ms). */
          p99Ms: z.number().positive().default(300),
          /** Failed requests (an error, a time-out, an answer other than 2xx), at most. */
          errors: z.number().int().min(0).default(0),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  // What the topology must have, e.g. { replicas: 1, redis: true }; checked before anything starts.
  requires: {},
  async run(context, options) {
    context.progress?.(\`\${options.request} at \${options.rate}/s for \${options.durationMs} ms\`);
    // The requests are sent and timed in a process of their own: dbproof's work never becomes the app's latency.
    const load = await startSuiteLoad({
      url: context.app.url,
      rate: options.rate,
      durationMs: options.durationMs,
      requests: [{ spec: parseRequest(options.request) }],
      seed: '${EXAMPLE_SUITE}',
    });
    const { timeline, lastError } = await load.start();
    // No request answered is no measurement: the verdict fails rather than pass on nothing.
    const p99Ms = timeline.requests > 0 ? timeline.percentile(99) : null;
    const evidence = lastError ? \`last error: \${lastError}\` : undefined;
    return {
      verdicts: [
        judge(
          \`\${options.request} answers within \${options.budgets.p99Ms} ms (p99) at \${options.rate}/s\`,
          atMost('p99Ms', options.budgets.p99Ms, 'ms', options.request),
          p99Ms,
          evidence,
        ),
        judge(
          \`\${options.request} does not fail at \${options.rate}/s\`,
          atMost('errors', options.budgets.errors, 'count', options.request),
          timeline.errors,
          evidence,
        ),
      ],
      measurements: { requests: timeline.requests, errors: timeline.errors, p99Ms },
      events: [],
      timelines: [timelineRecord(\`\${options.request} at \${options.rate}/s\`, timeline)],
      notes: [],
    };
  },
});
`;
}
