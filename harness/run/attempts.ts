import { dependsOnTime, inconclusive, type Verdict } from '../budgets/index.ts';

/** What the machine did while one attempt ran: saturated or quiet, and a line of evidence. */
export interface AttemptNoise {
  saturated: boolean;
  /** e.g. `probe woke up to 212 ms late (p99 48 ms); CPU pressure 64 % of the time`. */
  evidence: string;
}

/** One attempt of a suite or load scenario: its verdicts and the machine's noise meanwhile. */
export interface Attempt<T extends { verdicts: Verdict[] }> {
  result: T;
  /** undefined when the machine was not watched (the monitor is off): nothing is excused. */
  noise: AttemptNoise | undefined;
}

export interface AttemptsOutcome<T extends { verdicts: Verdict[] }> {
  /** The attempt whose verdicts count, its time-dependent failures marked inconclusive when no attempt was quiet. */
  final: T;
  /** The attempts before it, superseded because the machine was saturated while a time-dependent budget broke. */
  earlier: Attempt<T>[];
}

/**
 * Runs a suite or scenario until its verdicts can be believed (issue 13). An attempt is
 * final when every budget that depends on time holds, when a budget that does not depend
 * on time broke (a lost write is a FAIL however busy the machine was: noise never
 * excuses it, and a second attempt would not undo it), or when the machine was quiet.
 * Otherwise a time-dependent budget broke while the machine was saturated: the attempt
 * says nothing about the app, and it runs again, up to `retries` more times. When no
 * attempt was quiet, the last one's broken time-dependent budgets are INCONCLUSIVE.
 */
export async function runAttempts<T extends { verdicts: Verdict[] }>(
  attempt: (n: number) => Promise<Attempt<T>>,
  retries: number,
  beforeRetry?: (why: string, next: number) => Promise<void> | void,
): Promise<AttemptsOutcome<T>> {
  const earlier: Attempt<T>[] = [];
  for (let n = 1; ; n++) {
    const current = await attempt(n);
    const { result, noise } = current;
    const broken = result.verdicts.filter((v) => !v.pass);
    const excusable = broken.length > 0 && broken.every((v) => dependsOnTime(v.budget));
    if (!excusable || !noise?.saturated) return { final: result, earlier };
    if (n > retries) {
      const verdicts = result.verdicts.map((v) => (v.pass ? v : inconclusive(v, noise.evidence)));
      return { final: { ...result, verdicts }, earlier };
    }
    earlier.push(current);
    await beforeRetry?.(
      `${broken.length} time-dependent budget(s) broke while the machine was saturated (${noise.evidence}); attempt ${n + 1} of ${retries + 1}`,
      n + 1,
    );
  }
}
