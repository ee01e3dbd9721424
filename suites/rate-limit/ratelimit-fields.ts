import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import type { Spread } from '../../harness/http/spread.ts';
import type { WindowedAnswer } from '../../load/engines/windowed-load.ts';
import { type IdentityScheme, identityWords } from './clients.ts';
import { leastExcess, namesWrongReset, rangeOf, type tally } from './tally.ts';

type Counts = ReturnType<typeof tally>;

/** One client's RateLimit fields held to what followed. */
export interface FieldsTally {
  /** 2xx and 429 answers that said a remaining count. */
  said: number;
  /** Answers whose fields misstated what followed, for every window the app may have counted the requests in. */
  wrong: number;
}

/**
 * A fixed-window count shared by every instance numbers a client's admitted requests of a
 * window 1…limit, each once, and says limit − its number remain; a 429 says 0 remain; the
 * reset names the window's end. So, provably wrong whatever a busy machine delayed: a 429
 * saying requests remain; an admitted answer saying `limit` or more remain (it was counted
 * itself); two answers counted in one window saying one number; a reset named as a wrong
 * Retry-After is; and in a window with a 429 (every number up to the limit given out), the
 * numbers never said beyond the requests that may have taken them unseen (not answered,
 * answered without a count, or maybe counted in that window).
 */
export function fieldsTally(
  answers: WindowedAnswer[],
  report: { windowMs: number; firstWindowAt: number; limit: number },
): FieldsTally {
  const { limit } = report;
  const ranges = answers.map((a) => rangeOf(a, report.windowMs));
  const admitted = (a: WindowedAnswer) => a.status >= 200 && a.status < 300;
  let wrong = 0;
  answers.forEach((answer, k) => {
    if (!admitted(answer) && answer.status !== 429) return;
    const remaining = answer.remaining;
    if (remaining !== undefined && (answer.status === 429 ? remaining > 0 : remaining >= limit)) wrong++;
    else if (answer.reset !== undefined && namesWrongReset(String(answer.reset), answer, ranges[k]!, report)) wrong++;
  });
  // Numbers said by admitted answers certainly counted in one window, by window.
  const numbers = new Map<number, number[]>();
  const refusedIn = new Set<number>();
  answers.forEach((answer, k) => {
    const [from, to] = ranges[k]!;
    if (from !== to) return;
    if (answer.status === 429) refusedIn.add(from);
    if (admitted(answer) && answer.remaining !== undefined && answer.remaining < limit)
      numbers.set(from, [...(numbers.get(from) ?? []), limit - answer.remaining]);
  });
  for (const [window, said] of numbers) {
    const distinct = new Set(said);
    wrong += said.length - distinct.size;
    if (!refusedIn.has(window)) continue;
    // Requests that may have taken a number of this window without saying it here.
    const unseen = answers.filter((answer, k) => {
      const [from, to] = ranges[k]!;
      if (answer.status === 429 || window < from || window > to) return false;
      return !(from === to && admitted(answer) && answer.remaining !== undefined && answer.remaining < limit);
    }).length;
    wrong += Math.max(0, limit - distinct.size - unseen);
  }
  const said = answers.filter((a) => (admitted(a) || a.status === 429) && a.remaining !== undefined).length;
  return { said, wrong };
}

/** The RateLimit fields verdict over every client. */
export function headersVerdict(
  counts: Counts,
  fields: FieldsTally[],
  options: { request: string; budgets: { rateLimitHeaders: number } },
): Verdict {
  const answered = counts.all.reduce((sum, c) => sum + c.admitted + c.limited, 0);
  const said = fields.reduce((sum, f) => sum + f.said, 0);
  // An answer without a count is no misstatement (a limiter that could not count and let the request through says none), unless none has one.
  const wrong = said === 0 ? answered : fields.reduce((sum, f) => sum + f.wrong, 0);
  const worst = fields.reduce((w, f, i) => (f.wrong > fields[w]!.wrong ? i : w), 0);
  const evidence =
    said === 0
      ? `none of ${answered} answers carried RateLimit-Remaining (or RateLimit with r=): the app sends no RateLimit fields (set the suite's rateLimitHeaders: false if it is not meant to)`
      : `${wrong} of ${answered} answers misstated what followed (${answered - said} without a remaining count); the worst, ${counts.all[worst]!.name}: ${fields[worst]!.wrong} (${counts.all[worst]!.admitted} admitted of ${counts.all[worst]!.sent})`;
  return judge(
    'the RateLimit headers say what happens next: remaining counts down to the 429s, a 429 says 0 remain, reset is the window’s end',
    atMost('rateLimitHeaders', options.budgets.rateLimitHeaders, 'count', options.request),
    wrong,
    evidence,
  );
}

/**
 * When clients under the limit were refused and every client's admitted requests together
 * fit one client's limit a window (for some placing in the windows they may have been
 * counted in), the app counted them as one client: it does not tell them apart the way the
 * suite's identity scheme does.
 */
export function oneCount(
  counts: Counts,
  answers: WindowedAnswer[][],
  report: { windowMs: number; limit: number; windows: number },
  identity: IdentityScheme,
): string {
  if (!counts.under.some((c) => c.limited > 0) || counts.all.length < 2) return '';
  const admittedRanges = answers
    .flat()
    .filter((a) => a.status >= 200 && a.status < 300)
    .map((a) => rangeOf(a, report.windowMs));
  if (leastExcess(admittedRanges, report.limit) > 0) return '';
  return `; all ${counts.all.length} clients together were admitted at most ${report.limit} a window, one client's limit: the app counts them as one client, not apart by ${identityWords(identity)}`;
}

export const spreadWords = (spread: Spread) =>
  spread === 'round-robin'
    ? 'round-robin'
    : spread === 'client-address'
      ? 'sticky by client address'
      : `sticky by ${spread.byHeader}`;
