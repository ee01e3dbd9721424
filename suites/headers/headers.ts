import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { UsageError } from '../../harness/errors.ts';
import { requestString } from '../../harness/http/request.ts';
import { headersOf, seenAnswers } from '../../harness/http/seen.ts';
import { defineSuite, parseRequest, Session } from '../../harness/suite/index.ts';
import { count } from '../support/options.ts';
import { breaches, RULES, type RuleName } from './rules.ts';

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

/**
 * "Security headers on every response": one request for each kind of answer the app
 * gives (a page, a 404, a 429, a 500, one that sets a cookie), each answer's headers held
 * to rules modelled on the Mozilla HTTP Observatory. Headers set by a middleware that runs
 * only on the happy path are present on the 200 and missing on the error pages.
 */
export const headers = defineSuite({
  name: 'headers',
  description:
    'security headers (HSTS, CSP, nosniff, framing, Referrer-Policy, no version leaks, cookie flags) on every kind of answer: 2xx, 404, 429, 500',
  options: z
    .object({
      /**
       * The answers to check: each request is sent (up to `upTo` times, for a 429) until it
       * answers `status`; one that never does is bad input.
       */
      requests: z
        .array(
          z
            .object({
              request: requestString(),
              body: z.unknown().optional(),
              headers: z.record(z.string(), z.string()).optional(),
              status: z.number().int().min(100).max(599),
              upTo: z.number().int().min(1).max(1000).default(1),
            })
            .strict(),
        )
        .min(1)
        .default([
          { request: 'GET /inspections/1', status: 200, upTo: 1 },
          { request: 'PUT /inspections/1/status', body: { status: 'completed' }, status: 200, upTo: 1 },
          { request: 'GET /dbproof-no-such-page', status: 404, upTo: 1 },
          { request: 'GET /api/inspections/1', headers: { 'x-api-key': 'dbproof-headers' }, status: 429, upTo: 100 },
          // Slower than the app's read time-outs on every node: its 500 page.
          { request: 'GET /slow?ms=3000', status: 500, upTo: 1 },
        ]),
      /** Each rule on (true) or off; all on by default (HSTS off for an app only ever served over http). */
      rules: z
        .object(
          Object.fromEntries(Object.keys(RULES).map((rule) => [rule, z.boolean().default(true)])) as {
            [rule in RuleName]: z.ZodDefault<z.ZodBoolean>;
          },
        )
        .strict()
        .prefault({}),
      /**
       * Also every kind of answer (request as written, status) the app gave the run's other
       * suites and their engines before this one, each held to the same rules. false: only
       * the answers of `requests`.
       */
      seen: z.boolean().default(true),
      timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      budgets: z
        .object({
          /** Answers breaking a rule, per rule. */
          breaches: count(0),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: { runsLast: true },
  async run(context, options) {
    const session = new Session(context.app.url, options.timeoutMs);
    const rules = (Object.keys(RULES) as RuleName[]).filter((rule) => options.rules[rule]);
    const seen: { name: string; found: Partial<Record<RuleName, string>> }[] = [];
    const classes: Record<string, number> = {};
    for (const entry of options.requests) {
      const spec = { ...parseRequest(entry.request, entry.body), ...(entry.headers ? { headers: entry.headers } : {}) };
      let answer = await session.send(spec);
      let sent = 1;
      while (answer.status !== entry.status && sent < entry.upTo) {
        answer = await session.send(spec);
        sent++;
      }
      if (answer.status !== entry.status)
        throw new UsageError(
          `suite headers: ${entry.request} answered ${answer.status}, not the ${entry.status} it is listed for (after ${sent} request(s)): set the suite's requests to ones that answer each status to check`,
        );
      classes[statusClass(answer.status)] = (classes[statusClass(answer.status)] ?? 0) + 1;
      seen.push({ name: `${entry.request} ${answer.status}`, found: breaches(answer.headers!, rules) });
    }
    const asked = seen.length;
    if (options.seen) {
      // Answers of this app (any of its instances) the other suites and the scenarios got; its own requests' are above.
      const own = new Set(options.requests.map((entry) => `${entry.request} ${entry.status}`));
      const instances = (context.app.urls ?? [context.app.url]).map((url) => new URL(url).origin);
      // The same app on a topology of its own earlier in the run (a destructive suite's).
      const earlier = new Set((context.app.earlierUrls ?? []).map(originOf));
      // This suite's own requests went to app.url only: the same request on another instance is still judged.
      const ownOrigin = originOf(context.app.url);
      // One per (origin, request, status): `http://h:1/` and `http://h:1` are one instance.
      const judged = new Set<string>();
      for (const answer of seenAnswers.list()) {
        const name = `${answer.request} ${answer.status}`;
        const origin = originOf(answer.origin);
        const instance = instances.indexOf(origin);
        if (instance < 0 && !earlier.has(origin)) continue;
        if ((origin === ownOrigin && own.has(name)) || judged.has(`${origin} ${name}`)) continue;
        judged.add(`${origin} ${name}`);
        // Each instance's own: one set up differently from the others is found, by number.
        const where =
          instance < 0
            ? '(seen earlier in the run)'
            : instances.length > 1
              ? `(seen on instance ${instance + 1})`
              : '(seen)';
        classes[statusClass(answer.status)] = (classes[statusClass(answer.status)] ?? 0) + 1;
        seen.push({ name: `${name} ${where}`, found: breaches(headersOf(answer.headers), rules) });
      }
    }
    const verdicts = rules.map((rule) => {
      const breaking = seen.filter((s) => s.found[rule]);
      return judge(
        `every answer: ${RULES[rule]}`,
        atMost(`${rule}Breaches`, options.budgets.breaches, 'count', 'headers'),
        breaking.length,
        breaking.length > 0
          ? breaking
              .slice(0, 5)
              .map((s) => `${s.name}: ${s.found[rule]}`)
              .join('; ') + (breaking.length > 5 ? `; and ${breaking.length - 5} more` : '')
          : undefined,
      );
    });
    return {
      verdicts,
      measurements: {
        answers: seen.length,
        answersSeen: seen.length - asked,
        ...Object.fromEntries(Object.entries(classes).map(([c, n]) => [`answers${c}`, n])),
        ...Object.fromEntries(rules.map((rule) => [`${rule}Breaches`, seen.filter((s) => s.found[rule]).length])),
      },
      events: [],
      timelines: [],
      notes: [
        `answers checked: ${seen.map((s) => s.name).join(', ')}`,
        ...(options.seen
          ? [
              `(seen): one answer of each kind (instance, request as written, status) the run's other suites and load scenarios got from this app before this one (it runs last), their engines' included, and the destructive suites' (the app on a topology of its own earlier in the run); not a k6 scenario's`,
            ]
          : []),
      ],
    };
  },
});

/** An answer's origin as `URL` writes it, or '' for one that is not a URL. */
function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : '';
}
