import type { WindowedAnswer, WindowedClient, WindowedLoadReport } from '../../load/engines/windowed-load.ts';

/** A client of the rate-limit suite: over its limit, under it, or making up a header to pass for many. */
export type LimitClient = WindowedClient & { role: 'over' | 'under' | 'bypass' };

/**
 * One client's requests over every window. A request was counted by the app at an instant
 * between its sending and its answer, so in one of the windows from the one it was sent for
 * to the one its answer came in: a range, one window wide on a quiet machine. Every count
 * here that judges the app holds for every way the app may have placed them (never a busy
 * machine's late arrivals taken for the app's fault).
 */
export interface ClientTally {
  name: string;
  perWindow: number;
  sent: number;
  /** Answered 2xx. */
  admitted: number;
  /** Answered 429. */
  limited: number;
  /** Answered 503. */
  unavailable: number;
  /** Answered with another status, or not at all. */
  errors: number;
  /** Answered after the window they were sent for had ended. */
  late: number;
  /**
   * Admitted beyond `limit` a window however the admitted requests are placed in the windows
   * they may have been counted in: the least the app admitted too many (0 on a right limiter).
   */
  excess: number;
  /** 429s given where none of the windows it may have been counted in held more than `limit` of the client's requests, itself included. */
  wronglyRefused: number;
  /**
   * The other 429s: a window they may have been counted in may have held more than `limit`.
   * Right for a client over its limit; for one under it, only late arrivals piled into one
   * window can explain them, and they are counted neither for nor against the app.
   */
  refusedUnclear: number;
  limitedWithoutRetryAfter: number;
  /** 429s whose Retry-After was missing, named a time before the window's end, or over a window after it. */
  retryAfterWrong: number;
}

/** The windowed load's answers by client, judged against `limit` per window and grouped by the client's role. */
export function tally(
  clients: LimitClient[],
  report: Pick<WindowedLoadReport, 'firstWindowAt' | 'answers'> & { windowMs: number; limit: number },
) {
  const { windowMs, limit } = report;
  const all: (ClientTally & { role: LimitClient['role'] })[] = clients.map((client, i) => {
    const answers = report.answers[i]!;
    const ranges = answers.map((a) => rangeOf(a, windowMs));
    const of = (pick: (a: WindowedAnswer) => boolean) => answers.filter(pick).length;
    const admitted = (a: WindowedAnswer) => a.status >= 200 && a.status < 300;
    // The client's requests that may have been counted in each window: an upper bound on the app's count there.
    const mayHold = new Map<number, number>();
    for (const [from, to] of ranges) for (let w = from; w <= to; w++) mayHold.set(w, (mayHold.get(w) ?? 0) + 1);
    let wronglyRefused = 0;
    let refusedUnclear = 0;
    let withoutRetryAfter = 0;
    let retryWrong = 0;
    answers.forEach((answer, k) => {
      if (answer.status !== 429) return;
      const [from, to] = ranges[k]!;
      let most = 0;
      for (let w = from; w <= to; w++) most = Math.max(most, mayHold.get(w)!);
      if (most <= limit) wronglyRefused++;
      else refusedUnclear++;
      if (!answer.retryAfter) withoutRetryAfter++;
      else if (namesWrongReset(answer.retryAfter, answer, [from, to], report)) retryWrong++;
    });
    return {
      name: client.name,
      role: client.role,
      perWindow: client.perWindow,
      sent: answers.length,
      admitted: of(admitted),
      limited: of((a) => a.status === 429),
      unavailable: of((a) => a.status === 503),
      errors: of((a) => !admitted(a) && a.status !== 429 && a.status !== 503),
      late: of((a) => a.status !== 0 && a.doneAt >= (a.window + 1) * windowMs),
      excess: leastExcess(
        ranges.filter((_, k) => admitted(answers[k]!)),
        limit,
      ),
      wronglyRefused,
      refusedUnclear,
      limitedWithoutRetryAfter: withoutRetryAfter,
      retryAfterWrong: withoutRetryAfter + retryWrong,
    };
  });
  return {
    all,
    over: all.filter((c) => c.role === 'over'),
    under: all.filter((c) => c.role === 'under'),
    bypass: all.find((c) => c.role === 'bypass'),
  };
}

/** The windows, first and last, the app may have counted a request in. */
export function rangeOf(answer: WindowedAnswer, windowMs: number): [number, number] {
  return [answer.window, Math.max(answer.window, Math.floor(answer.doneAt / windowMs))];
}

/**
 * The fewest requests that must have been admitted above `capacity` in some window, given
 * the range of windows each may have been counted in: requests placed in order of their
 * last possible window, each in the earliest window of its range with room left (the
 * greedy that places the most intervals on capacitated points); the ones that find no room
 * are the excess.
 */
export function leastExcess(ranges: readonly (readonly [number, number])[], capacity: number): number {
  const placed = new Map<number, number>();
  let excess = 0;
  for (const [from, to] of [...ranges].sort((a, b) => a[1] - b[1] || a[0] - b[0])) {
    let w = from;
    while (w <= to && (placed.get(w) ?? 0) >= capacity) w++;
    if (w > to) excess++;
    else placed.set(w, (placed.get(w) ?? 0) + 1);
  }
  return excess;
}

/**
 * A Retry-After (or a RateLimit reset) is wrong when, whenever the app decided (between the sending and the
 * answer), it names a time before the end of the window the app counted in (a client that
 * obeys is refused again) or more than a window (and a second, its rounding) after that end.
 * "0" is before every window's end; another delta is provably early only when the request
 * was sent and answered in one window (across a boundary, a decision just after it had a
 * whole window to wait). An HTTP date is early if it is before the first window's end the
 * request may have been counted in, late if after the last one's, a window and a second on.
 */
export function namesWrongReset(
  named: string,
  answer: WindowedAnswer,
  [from, to]: [number, number],
  { windowMs, firstWindowAt }: { windowMs: number; firstWindowAt: number },
): boolean {
  const value = named.trim();
  const endOf = (window: number) => (window + 1) * windowMs;
  const tooLate = (at: number) => at > endOf(to) + windowMs + 1000;
  if (/^\d+$/.test(value)) {
    const delta = Number(value) * 1000;
    const early = delta === 0 || (from === to && answer.doneAt + delta < endOf(to));
    return early || tooLate(answer.sentAt + delta);
  }
  const date = Date.parse(value);
  if (Number.isNaN(date)) return true;
  return date - firstWindowAt < endOf(from) || tooLate(date - firstWindowAt);
}
