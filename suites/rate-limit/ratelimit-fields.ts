import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import type { Spread } from '../../harness/http/spread.ts';
import type { WindowedLoadReport } from '../../load/engines/windowed-load.ts';
import { type IdentityScheme, identityWords } from './clients.ts';
import type { tally } from './tally.ts';

type Counts = ReturnType<typeof tally>;

/**
 * The RateLimit fields held to what followed: the remaining count said on admitted answers
 * agrees with how many were admitted (reaching 0 is followed by 429s, never by more
 * admitted), a 429 says none remain, and the reset names the window's end (a request sent
 * after it, the next window's, is admitted: the over clients' counts show it).
 */
export function headersVerdict(
  counts: Counts,
  options: { request: string; budgets: { rateLimitHeaders: number } },
): Verdict {
  const sum = (pick: (c: Counts['all'][number]) => number) => counts.all.reduce((total, c) => total + pick(c), 0);
  const answered = sum((c) => c.admitted + c.limited);
  const without = sum((c) => c.withoutRemaining);
  // An answer without a count is not a misstatement (a limiter that cannot count and fails open says none), unless none has one.
  const wrong = without === answered ? answered : sum((c) => c.headersWrong);
  const worst = counts.all.reduce((w, c) => (c.headersWrong > w.headersWrong ? c : w));
  const evidence =
    without === answered
      ? `none of ${answered} answers carried RateLimit-Remaining (or RateLimit with r=): the app sends no RateLimit fields (set the suite's rateLimitHeaders: false if it is not meant to)`
      : `${wrong} of ${answered} answers misstated what followed (${without} without a remaining count); the worst, ${worst.name}: ${worst.headersWrong} (${worst.admitted} admitted in ${worst.sent}); ${sum((c) => c.headersUnchecked)} clients whose admitted beyond the remaining count were not counted (answers after the last window)`;
  return judge(
    'the RateLimit headers say what happens next: remaining counts down to the 429s, a 429 says 0 remain, reset is the window’s end',
    atMost('rateLimitHeaders', options.budgets.rateLimitHeaders, 'count', options.request),
    wrong,
    evidence,
  );
}

/**
 * When clients under the limit were refused and every window's admitted, all clients
 * together, came to no more than one client's limit, the app counted them as one client:
 * it does not tell them apart the way the suite's identity scheme does.
 */
export function oneCount(counts: Counts, report: WindowedLoadReport, limit: number, identity: IdentityScheme): string {
  const refused = counts.under.some((c) => c.limited > 0);
  const windows = report.counts[0]?.length ?? 0;
  // Over all windows, so that a busy machine's request counted in the next window moves nothing.
  const allowed = limit * (windows + Math.max(...counts.all.map((c) => c.tailWindows)));
  const together = counts.all.reduce((sum, c) => sum + c.admitted, 0);
  if (!refused || counts.all.length < 2 || together > allowed) return '';
  return `; all ${counts.all.length} clients together were admitted ${together} in ${windows} windows, at most one client's limit: the app counts them as one client, not apart by ${identityWords(identity)}`;
}

export const spreadWords = (spread: Spread) =>
  spread === 'round-robin'
    ? 'round-robin'
    : spread === 'client-address'
      ? 'sticky by client address'
      : `sticky by ${spread.byHeader}`;
