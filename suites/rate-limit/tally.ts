import type { WindowCount, WindowedClient, WindowedLoadReport } from '../../load/engines/windowed-load.ts';

/** A client of the rate-limit suite: over its limit, under it, or making up a header to pass for many. */
export type LimitClient = WindowedClient & { role: 'over' | 'under' | 'bypass' };

/** One client's requests over every window. */
export interface ClientTally {
  name: string;
  perWindow: number;
  sent: number;
  admitted: number;
  limited: number;
  /** Answered 503. */
  unavailable: number;
  /** Answered with another status, or not at all. */
  errors: number;
  late: number;
  /**
   * Windows after the last one that the client's answers reached: the app may have counted
   * requests in them (a slow machine's requests arrive after the window they were sent for).
   */
  tailWindows: number;
  limitedWithoutRetryAfter: number;
  /** 429s whose Retry-After was missing, before the window's end or over a window after it. */
  retryAfterWrong: number;
  /** 2xx and 429 answers without a RateLimit remaining count. */
  withoutRemaining: number;
  /**
   * Requests the RateLimit headers misstated: per window, the admitted beyond or short of
   * limit − the least remaining an admitted answer said, 429s saying requests remain, and
   * resets naming a time the window does not end at.
   */
  headersWrong: number;
  /** 1 when the client's admitted beyond the remaining count were not counted: answers came after the last window (tailWindows), which the app may have counted in a window beyond. */
  headersUnchecked: number;
}

/** The windowed load's counts by client, summed over the windows and grouped by the client's role. */
export function tally(clients: LimitClient[], report: WindowedLoadReport & { windowMs: number; limit: number }) {
  const { counts } = report;
  const lastWindowEnd = report.firstWindowAt + counts[0]!.length * report.windowMs;
  const all: (ClientTally & { role: LimitClient['role'] })[] = clients.map((client, i) => {
    const sum = (pick: (c: WindowCount) => number) => counts[i]!.reduce((total, c) => total + pick(c), 0);
    const tailWindows = Math.max(0, Math.ceil((report.lastAnswerAt[i]! - lastWindowEnd) / report.windowMs));
    return {
      name: client.name,
      role: client.role,
      perWindow: client.perWindow,
      sent: sum((c) => c.sent),
      admitted: sum((c) => c.admitted),
      limited: sum((c) => c.limited),
      unavailable: sum((c) => c.unavailable),
      errors: sum((c) => c.other + c.failed),
      late: sum((c) => c.late),
      tailWindows,
      limitedWithoutRetryAfter: sum((c) => c.limitedWithoutRetryAfter),
      retryAfterWrong: sum((c) => c.limitedWithoutRetryAfter + c.retryTooEarly + c.retryTooLate),
      withoutRemaining: sum((c) => c.withoutRemaining),
      headersWrong:
        sum((c) => c.refusedWithRemaining + c.resetWrong) +
        remainingMisstated(counts[i]!, report.limit, tailWindows > 0),
      headersUnchecked: tailWindows > 0 ? 1 : 0,
    };
  });
  return {
    all,
    over: all.filter((c) => c.role === 'over'),
    under: all.filter((c) => c.role === 'under'),
    bypass: all.find((c) => c.role === 'bypass'),
  };
}

/**
 * A shared count gives each admitted request of a window a number 1…admitted and says
 * limit − its number remain, then refuses: in a window with 429s the least remaining said on
 * an admitted answer is 0, and anything above is misstated (a count above the truth: the
 * client holds back for nothing). A request sent for one window and counted in the next (a
 * busy machine's) arrives at its start and takes a low number, so it never changes that; a
 * request never answered is allowed for.
 * Summed over the windows (where such a request moves between them without changing the
 * sum), the admitted beyond limit − least remaining are misstated too (a count that says 0
 * and admits more); not with a tail: requests counted in a window after the last add
 * admitted to no said count.
 */
function remainingMisstated(windows: WindowCount[], limit: number, tail: boolean): number {
  const said = windows.filter((c) => c.leastRemainingAdmitted !== null);
  // A request counted and never answered (a time-out), or answered without the field (a Redis
  // command that timed out after it counted, the request let through), took a
  // number whose remaining the client never saw: the least seen may be that many above 0.
  const unseen = (c: WindowCount) => c.failed + c.other + c.unavailable + c.withoutRemaining;
  const aboveTheTruth = said.reduce(
    (sum, c) => sum + (c.limited > 0 ? Math.max(0, c.leastRemainingAdmitted! - unseen(c)) : 0),
    0,
  );
  const admitted = said.reduce((sum, c) => sum + c.admittedWithRemaining, 0);
  const promised = said.reduce((sum, c) => sum + limit - c.leastRemainingAdmitted!, 0);
  return aboveTheTruth + (tail ? 0 : Math.max(0, admitted - promised));
}
