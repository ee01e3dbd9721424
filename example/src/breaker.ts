/**
 * A circuit breaker around ONE database node. The app keeps one per node (the primary and
 * each replica, see db.ts): a frozen replica opens only its own breaker, reads go to
 * another replica, and writes to the primary never see it. After `failures` failures of
 * its node in a row it opens, and calls to that node fail at once (no connection attempt,
 * no timeout to wait out) for `resetMs`; then one trial call goes through: success closes
 * it, failure opens it again. dbproof's circuit-breaker suite measures these three phases.
 *
 * Calls that were already in flight when the breaker changed state (let through while it
 * was closed, answered after it opened) do not change it again: a late failure does not
 * push the open window further out, a late success does not close it without a trial.
 * Only calls admitted in the current state (its `epoch`) move it.
 *
 * "In a row" means without a success between them and without a long quiet gap: a run of
 * failures is forgotten after `forgetMs` without another, and so is an opening nobody has
 * tried since (half-open that long: closed again). A node only some requests use (the
 * primary, while reads go to the replicas) would otherwise carry failures from minutes
 * ago into the next outage, and open there after its first failure instead of `failures`.
 */
export class BreakerOpenError extends Error {
  readonly status = 503;
  constructor(
    readonly node: string,
    retryInMs: number,
  ) {
    super(`database circuit open on ${node}; retrying in ${Math.max(0, Math.round(retryInMs))} ms`);
    this.name = 'BreakerOpenError';
  }
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface Breaker {
  /** The node it guards: `primary`, `replica1`, … */
  readonly node: string;
  readonly state: BreakerState;
  /** Runs `operation` on the node unless the breaker is open; `isFailure` tells the node's failures from errors of the statement. */
  run<T>(operation: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T>;
}

export interface BreakerOptions {
  failures: number;
  resetMs: number;
  /** A run of failures, or an opening no trial has followed, is forgotten after this long without a failure (default 10 s, at least resetMs). */
  forgetMs?: number;
}

/** A breaker for `node`; no options: no breaker (every call goes through). `now` is for tests. */
export function createBreaker(
  node: string,
  options: BreakerOptions | undefined,
  now: () => number = Date.now,
): Breaker {
  if (!options) return { node, state: 'closed', run: (operation) => operation() };
  const forgetMs = Math.max(options.forgetMs ?? 10_000, options.resetMs);
  let failuresInARow = 0;
  let lastFailureAt = 0;
  /** 0 while closed; otherwise when the next trial may go. */
  let openUntil = 0;
  let trialInFlight = false;
  let epoch = 0;
  const open = () => {
    openUntil = now() + options.resetMs;
    failuresInARow = 0;
    epoch++;
  };
  const close = () => {
    openUntil = 0;
    failuresInARow = 0;
    epoch++;
  };
  const breaker: Breaker = {
    node,
    get state() {
      if (openUntil === 0) return 'closed';
      if (now() < openUntil || trialInFlight) return 'open';
      // Due for a trial, but no call came and nothing failed for forgetMs: what opened it is forgotten.
      if (now() - lastFailureAt > forgetMs) {
        close();
        return 'closed';
      }
      return 'half-open';
    },
    async run<T>(operation: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
      const state = breaker.state;
      if (state === 'open') throw new BreakerOpenError(node, openUntil - now());
      const trial = state === 'half-open';
      if (trial) trialInFlight = true;
      const admittedIn = epoch;
      try {
        const result = await operation();
        // The node answered: a trial closes the breaker, a call while closed ends the run of failures.
        if (admittedIn === epoch) {
          if (trial) close();
          else failuresInARow = 0;
        }
        return result;
      } catch (error) {
        if (admittedIn === epoch) {
          if (!isFailure(error)) {
            // An error of the statement (bad SQL, a constraint): the node itself answered.
            if (trial) close();
            else failuresInARow = 0;
          } else {
            if (now() - lastFailureAt > forgetMs) failuresInARow = 0;
            lastFailureAt = now();
            if (trial || ++failuresInARow >= options.failures) open();
          }
        }
        throw error;
      } finally {
        if (trial) trialInFlight = false;
      }
    },
  };
  return breaker;
}
