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
  /** Windows not held to the remaining count: an answer in it or the one before came after its window ended (counted in the next one, maybe). */
  headersUnchecked: number;
}

/** The windowed load's counts by client, summed over the windows and grouped by the client's role. */
export function tally(clients: LimitClient[], report: WindowedLoadReport & { windowMs: number; limit: number }) {
  const { counts } = report;
  const lastWindowEnd = report.firstWindowAt + counts[0]!.length * report.windowMs;
  const all: (ClientTally & { role: LimitClient['role'] })[] = clients.map((client, i) => {
    const sum = (pick: (c: WindowCount) => number) => counts[i]!.reduce((total, c) => total + pick(c), 0);
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
      tailWindows: Math.max(0, Math.ceil((report.lastAnswerAt[i]! - lastWindowEnd) / report.windowMs)),
      limitedWithoutRetryAfter: sum((c) => c.limitedWithoutRetryAfter),
      retryAfterWrong: sum((c) => c.limitedWithoutRetryAfter + c.retryTooEarly + c.retryTooLate),
      withoutRemaining: sum((c) => c.withoutRemaining),
      headersWrong: sum((c) => c.refusedWithRemaining + c.resetWrong) + remainingMisstated(counts[i]!, report.limit),
      headersUnchecked: counts[i]!.filter((_, w) => lateAround(counts[i]!, w)).length,
    };
  });
  return {
    all,
    over: all.filter((c) => c.role === 'over'),
    under: all.filter((c) => c.role === 'under'),
    bypass: all.find((c) => c.role === 'bypass'),
  };
}

const lateAround = (windows: WindowCount[], w: number) => windows[w]!.late > 0 || (w > 0 && windows[w - 1]!.late > 0);

/**
 * A shared count gives each admitted request of a window a number 1…admitted, and says
 * limit − its number remain: whatever order the answers came in, the least remaining said is
 * limit − admitted. The admitted beyond it (a count that says 0 and admits more) or short of
 * it (a count one above the truth) are misstated, window by window.
 */
function remainingMisstated(windows: WindowCount[], limit: number): number {
  return windows.reduce((sum, c, w) => {
    if (c.leastRemainingAdmitted === null || lateAround(windows, w)) return sum;
    return sum + Math.abs(c.admitted - (limit - c.leastRemainingAdmitted));
  }, 0);
}
