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
}

/** The windowed load's counts by client, summed over the windows and grouped by the client's role. */
export function tally(clients: LimitClient[], report: WindowedLoadReport & { windowMs: number }) {
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
    };
  });
  return {
    all,
    over: all.filter((c) => c.role === 'over'),
    under: all.filter((c) => c.role === 'under'),
    bypass: all.find((c) => c.role === 'bypass'),
  };
}
