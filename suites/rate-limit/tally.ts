import type { WindowCount, WindowedClient } from '../../load/engines/windowed-load.ts';

/** A client of the rate-limit suite: over its limit, under it, or making up a header to pass for many. */
export type LimitClient = WindowedClient & { role: 'over' | 'under' | 'bypass' };

/** One client's requests over every window. */
export interface ClientTally {
  name: string;
  perWindow: number;
  sent: number;
  admitted: number;
  limited: number;
  /** Answered with another status, or not at all. */
  errors: number;
  late: number;
  limitedWithoutRetryAfter: number;
}

/** The windowed load's counts by client, summed over the windows and grouped by the client's role. */
export function tally(clients: LimitClient[], counts: WindowCount[][]) {
  const all: (ClientTally & { role: LimitClient['role'] })[] = clients.map((client, i) => {
    const sum = (pick: (c: WindowCount) => number) => counts[i]!.reduce((total, c) => total + pick(c), 0);
    return {
      name: client.name,
      role: client.role,
      perWindow: client.perWindow,
      sent: sum((c) => c.sent),
      admitted: sum((c) => c.admitted),
      limited: sum((c) => c.limited),
      errors: sum((c) => c.other + c.failed),
      late: sum((c) => c.late),
      limitedWithoutRetryAfter: sum((c) => c.limitedWithoutRetryAfter),
    };
  });
  return {
    all,
    over: all.filter((c) => c.role === 'over'),
    under: all.filter((c) => c.role === 'under'),
    bypass: all.find((c) => c.role === 'bypass'),
  };
}
