import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { UsageError } from '../../harness/errors.ts';
import { defineSuite, parseRequest } from '../../harness/suite/index.ts';
import { startWindowedLoad } from '../../load/engines/windowed-load.ts';
import { count, ms, ratio, request } from '../support/options.ts';
import { type IdentityScheme, identityWords, limitClients } from './clients.ts';
import { fieldsTally, headersVerdict, oneCount, spreadWords } from './ratelimit-fields.ts';
import { redisDownPhase } from './redis-down.ts';
import { type LimitClient, tally } from './tally.ts';

const MAX_REQUESTS = 100_000;

/**
 * "Rate limiting: N requests per window per client", checked as counts across every instance
 * of the app: clients over the limit must be admitted no more than the limit (a count in
 * each instance's memory admits it once per instance), clients under it never refused
 * (a count shared by more than one client refuses the quiet with the busy), and a client
 * that makes up `X-Forwarded-For` on every request must not become many clients.
 */
export const rateLimit = defineSuite({
  name: 'rate-limit',
  description:
    'clients over and under a rate limit, spread over every instance of the app: admitted no more than the limit, the quiet ones never refused, no bypass by a made-up X-Forwarded-For',
  options: z
    .object({
      /** The limited request; `{id}` cycles through `ids`. */
      request: request('GET /api/inspections/{id}'),
      ids: z
        .object({ from: z.number().int().min(1).default(1), to: z.number().int().min(1).default(20) })
        .strict()
        .prefault({}),
      /**
       * How the app tells clients apart: `apiKey` or `header`, each client its own value of
       * `header` (default `x-api-key`); `ip`, each client its own source address of
       * 127.0.0.0/8 (127.0.0.2, 127.0.0.3, …; an app on this machine only).
       */
      identity: z
        .object({
          by: z.enum(['apiKey', 'header', 'ip']).default('apiKey'),
          header: z.string().min(1).default('x-api-key'),
        })
        .strict()
        .prefault({}),
      /** The claimed limit: at most this many requests admitted per client in each window. */
      limit: z.number().int().min(1).max(10_000).default(10),
      /** The limit's window, aligned to the epoch as a fixed-window limiter counts (a sliding one is judged alike). */
      windowMs: z.number().int().min(100).max(600_000).default(1000),
      /** Windows the clients send in: more windows, a finer overshoot (one request in limit × windows). */
      windows: z.number().int().min(1).max(120).default(4),
      /** The fraction of each window, at each end, in which nothing is sent: a request is counted in the window it was sent for. */
      guard: z.number().min(0).max(0.4).default(0.2),
      clients: z
        .object({
          /** Clients sending more than the limit … */
          over: z.number().int().min(1).max(20).default(2),
          /**
           * … this many times the limit per window. Above the instances' number: a count in
           * each instance must still refuse some (at N× the limit it refuses none, and the
           * app would look as if it limited nothing).
           */
          overFactor: z.number().gt(1).max(10).default(3),
          /** Clients sending less than the limit … */
          under: z.number().int().min(0).max(20).default(2),
          /** … this fraction of it per window (at least one request). */
          underFactor: z.number().gt(0).lt(1).default(0.5),
        })
        .strict()
        .prefault({}),
      /**
       * A client with no key sending as many requests as an over client, each with a
       * made-up `header` (`{n}`: the request's number): the app must count it as one
       * client. false: not tried.
       */
      bypass: z
        .union([
          z.literal(false),
          z
            .object({
              header: z.string().min(1).default('x-forwarded-for'),
              value: z.string().min(1).default('203.0.113.{n}'),
            })
            .strict(),
        ])
        .default({ header: 'x-forwarded-for', value: '203.0.113.{n}' }),
      /**
       * After the windows, Redis killed and the over clients sent again for `windows`
       * windows: the limiter must fail as `expect` says (`open`: every request admitted;
       * `closed`: none). Needs Redis in the topology. false: not tried.
       */
      redisDown: z
        .union([
          z.literal(false),
          z
            .object({
              expect: z.enum(['open', 'closed']),
              windows: z.number().int().min(1).max(10).default(1),
            })
            .strict(),
        ])
        .default(false),
      /**
       * The app's answers carry the IETF draft RateLimit fields (`RateLimit-Remaining` and
       * `-Reset`, or the combined `RateLimit: r=…, t=…`) of a fixed-window count, held to what
       * happens next. false: not checked (no such fields, or a token bucket's).
       */
      rateLimitHeaders: z.boolean().default(true),
      timeoutMs: ms(5000),
      budgets: z
        .object({
          /** Admitted above the limit, as a fraction of it (0.05: 5 %), the worst over client's. */
          overshoot: ratio(0.05),
          /** Requests refused to clients under their limit. */
          collateral: count(0),
          /** Requests admitted above the limit to the client with a made-up header. */
          bypass: count(0),
          /** 429s whose Retry-After is missing, names a time before the window resets, or over a window after. */
          retryAfter: count(0),
          /** Answers whose RateLimit fields misstated what followed (remaining, a 429 saying some remain, reset). */
          rateLimitHeaders: count(0),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: {},
  preflight(options, topology) {
    const { clients: mix, limit, windows } = options;
    const perWindow =
      (mix.over + (options.bypass ? 1 : 0)) * Math.ceil(limit * mix.overFactor) +
      mix.under * Math.max(1, Math.floor(limit * mix.underFactor));
    // Each request is reported on its own (when sent, when answered): a bound keeps that report small.
    if (perWindow * windows > MAX_REQUESTS)
      throw new UsageError(
        `suite rate-limit: ${perWindow * windows} requests (${perWindow} a window for ${windows} windows) is more than the ${MAX_REQUESTS} a run can send; lower the suite's limit (and windowMs with it: 10 in 6 s checks a limiter of 100 a minute), windows or clients`,
      );
    if (options.redisDown && !topology.redis)
      throw new UsageError('suite rate-limit: redisDown needs Redis in the topology (set topology.redis: true)');
  },
  async run(context, options) {
    if (options.redisDown && !context.topology.redis)
      throw new UsageError('suite rate-limit: redisDown needs Redis in the topology (set topology.redis: true)');
    const urls = context.app.urls ?? [context.app.url];
    const spec = parseRequest(options.request);
    const { limit, windows } = options;
    const spread = context.app.spread ?? 'round-robin';
    const clients = limitClients(options, urls, spread);
    context.progress?.(
      `${clients.length} clients over ${urls.length} instance(s) (${spreadWords(spread)}), ${windows} windows of ${options.windowMs} ms, limit ${limit}`,
    );
    const shape = {
      urls,
      request: spec,
      ids: options.ids,
      windowMs: options.windowMs,
      guard: options.guard,
      timeoutMs: options.timeoutMs,
    };
    // An identity of its own: the warm-up touches no client's count.
    const warmUp = {
      requests: Math.min(50, Math.max(limit, 2 * urls.length)),
      headers: { [options.identity.header]: 'dbproof-warm-up' },
    };
    const load = await startWindowedLoad({ ...shape, windows, clients, warmUp });
    const report = await load.start();
    const judged = { ...report, windowMs: options.windowMs, limit };
    const counts = tally(clients, judged);
    refuseUnhonoured(counts, options, clients);

    const allowed = limit * windows;
    const worstOver = counts.over.reduce((worst, c) => (c.excess > worst.excess ? c : worst));
    const overshoot = worstOver.excess / allowed;
    const collateral = counts.under.reduce((sum, c) => sum + c.wronglyRefused, 0);
    const bypassed = counts.bypass ? counts.bypass.excess : null;
    const late = counts.all.reduce((sum, c) => sum + c.late, 0);
    const perClient = (list: typeof counts.over) =>
      list.map((c) => `${c.name} ${c.admitted} admitted, ${c.limited} refused of ${c.sent}`).join('; ');
    const lateNote =
      late > 0
        ? `; ${late} answers came after their window (the app may have counted them in a later one: allowed for)`
        : '';
    const errorNote = `${lateNote}${report.lastError ? `; last error: ${report.lastError}` : ''}`;
    const verdicts = [
      judge(
        `no client is admitted more than ${limit} per ${options.windowMs} ms across ${urls.length} instance(s)`,
        atMost('overshoot', options.budgets.overshoot, 'ratio', options.request),
        overshoot,
        `${worstOver.name} was admitted ${worstOver.admitted} in ${windows} windows, at least ${worstOver.excess} above ${limit} a window; ${perClient(counts.over)}${errorNote}`,
      ),
    ];
    if (counts.under.length > 0)
      verdicts.push(
        judge(
          'clients under the limit are never refused',
          atMost('collateral', options.budgets.collateral, 'count', options.request),
          collateral,
          `${collateral} refused with at most ${limit} of the client's requests in the window; ${perClient(counts.under)}${oneCount(counts, report.answers, { ...judged, windows }, options.identity)}${errorNote}`,
        ),
      );
    if (options.bypass && counts.bypass)
      verdicts.push(
        judge(
          `a client that makes up ${options.bypass.header} is still one client`,
          atMost('bypass', options.budgets.bypass, 'count', options.request),
          bypassed,
          `with a new ${options.bypass.header} on each request, ${counts.bypass.admitted} of ${counts.bypass.sent} were admitted in ${windows} windows, at least ${counts.bypass.excess} above ${limit} a window${errorNote}`,
        ),
      );
    const retryAfterWrong = counts.all.reduce((sum, c) => sum + c.retryAfterWrong, 0);
    const refused = counts.all.reduce((sum, c) => sum + c.limited, 0);
    verdicts.push(
      judge(
        'every 429 says when to retry (Retry-After), and that is when the window resets',
        atMost('retryAfter', options.budgets.retryAfter, 'count', options.request),
        retryAfterWrong,
        `${retryAfterWrong} of ${refused} 429s: ${counts.all.reduce((sum, c) => sum + c.limitedWithoutRetryAfter, 0)} without Retry-After, the others naming a time before the window's end or over a window after it`,
      ),
    );
    const fields = report.answers.map((answers) => fieldsTally(answers, judged));
    if (options.rateLimitHeaders) verdicts.push(headersVerdict(counts, fields, options));
    // Not one request admitted or refused: every count above is a zero that measured nothing
    // (no 429 to read a Retry-After from, no admission to exceed a limit), so none may pass.
    const answered = counts.all.reduce((sum, c) => sum + c.admitted + c.limited, 0);
    if (answered === 0) {
      const sent = counts.all.reduce((sum, c) => sum + c.sent, 0);
      const nothing = `none of the ${sent} requests was admitted or refused: nothing to judge (${counts.all.reduce((sum, c) => sum + c.errors, 0)} failed, ${counts.all.reduce((sum, c) => sum + c.unavailable, 0)} answered 503)${report.lastError ? `; last error: ${report.lastError}` : ''}`;
      verdicts.splice(0, verdicts.length, ...verdicts.map((v) => judge(v.claim, v.budget, null, nothing)));
    }
    const redisDown = options.redisDown ? await redisDownPhase(context, shape, clients, options.redisDown) : undefined;
    if (redisDown) verdicts.push(redisDown.verdict);
    return {
      verdicts,
      measurements: {
        ...redisDown?.measurements,
        instances: urls.length,
        windows,
        limit,
        requests: counts.all.reduce((sum, c) => sum + c.sent, 0),
        overshoot,
        worstOverAdmitted: worstOver.admitted,
        collateral,
        bypassAdmitted: counts.bypass?.admitted ?? null,
        bypassed,
        errors: counts.all.reduce((sum, c) => sum + c.errors, 0),
        lateAnswers: late,
        ...answerTimes(report.answers.flat()),
        collateralUnclear: counts.under.reduce((sum, c) => sum + c.refusedUnclear, 0),
        refusedWithoutRetryAfter: counts.all.reduce((sum, c) => sum + c.limitedWithoutRetryAfter, 0),
        rateLimitHeadersWrong: options.rateLimitHeaders ? fields.reduce((sum, f) => sum + f.wrong, 0) : null,
      },
      events: redisDown?.events ?? [],
      timelines: [],
      notes: [
        `each client's requests for a window were sent in its middle ${Math.round((1 - 2 * options.guard) * 100)} %, spread over ${urls.length} instance(s) ${spreadWords(spread)}; the app counted each at some instant between its sending and its answer, so in a window from the one it was sent for to the one its answer came in (one window on a quiet machine): overshoot is the least excess over every way of placing the admitted requests in their windows, collateral the 429s whose windows held at most the limit of the client's requests however placed (lateAnswers: answers after their window; collateralUnclear: 429s that late arrivals may explain, judged neither way)`,
        `per window: over clients ${clients[0]!.perWindow}, under clients ${counts.under[0]?.perWindow ?? 0}; a 1-request overshoot is ${(1 / allowed).toFixed(4)} of the limit`,
      ],
    };
  },
});

/**
 * An identity scheme the app does not honour makes every verdict meaningless: no request
 * refused at all (nothing is limited on this request, or the limit is above `limit`), or
 * every request refused (the app limits something else first).
 */
function refuseUnhonoured(
  counts: ReturnType<typeof tally>,
  options: { request: string; limit: number; identity: IdentityScheme },
  clients: LimitClient[],
): void {
  const answered = counts.all.reduce((sum, c) => sum + c.admitted + c.limited, 0);
  if (answered === 0) return; // every request failed: the verdicts say so, with the last error
  if (counts.all.every((c) => c.limited === 0))
    throw new UsageError(
      `rate-limit: the app refused none of the ${clients[0]!.perWindow} requests per window of ${counts.over[0]!.name} (limit ${options.limit}) with 429: ${options.request} is not limited per ${identityWords(options.identity)}, or its limit is above ${options.limit} (set the suite's request, identity.header and limit)`,
    );
  // Only when every answer was a 429: a request the app failed (a database time-out on a busy
  // machine) may have been one it admitted, and the verdicts say so with the last error.
  if (counts.all.every((c) => c.admitted === 0 && c.errors === 0 && c.unavailable === 0))
    throw new UsageError(
      `rate-limit: the app refused every request (429), even the first of each window: ${options.request} is limited by something other than ${identityWords(options.identity)} or below 1 per window (set the suite's request, identity.header, limit and windowMs)`,
    );
}

/** How long answers took (ms): the cause of late answers, when there are any. */
function answerTimes(answers: { sentAt: number; doneAt: number; status: number }[]) {
  const took = answers
    .filter((a) => a.status !== 0)
    .map((a) => a.doneAt - a.sentAt)
    .sort((a, b) => a - b);
  const at = (q: number) => took[Math.min(took.length - 1, Math.floor(q * took.length))] ?? null;
  return { answerMsP50: at(0.5), answerMsP99: at(0.99), answerMsMax: took.at(-1) ?? null };
}
