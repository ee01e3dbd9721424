/**
 * A circuit breaker around the database: after `failures` node failures in a row it
 * opens and requests fail at once (no connection attempt, no timeout to wait out) for
 * `resetMs`; then one trial request goes through: success closes it, failure opens it
 * again. dbproof's circuit-breaker suite measures exactly these three phases.
 */
export class BreakerOpenError extends Error {
  readonly status = 503;
  constructor(retryInMs: number) {
    super(`database circuit open; retrying in ${Math.max(0, Math.round(retryInMs))} ms`);
    this.name = 'BreakerOpenError';
  }
}

export interface Breaker {
  run<T>(operation: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T>;
  readonly state: 'closed' | 'open' | 'half-open';
}

export function createBreaker(options: { failures: number; resetMs: number } | undefined): Breaker {
  if (!options) return { run: (operation) => operation(), state: 'closed' };
  let consecutiveFailures = 0;
  let openUntil = 0;
  let trialInFlight = false;
  const breaker = {
    get state() {
      if (openUntil === 0) return 'closed' as const;
      return Date.now() < openUntil || trialInFlight ? ('open' as const) : ('half-open' as const);
    },
    async run<T>(operation: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
      const state = breaker.state;
      if (state === 'open') throw new BreakerOpenError(openUntil - Date.now());
      const trial = state === 'half-open';
      if (trial) trialInFlight = true;
      try {
        const result = await operation();
        consecutiveFailures = 0;
        openUntil = 0;
        return result;
      } catch (error) {
        if (isFailure(error)) {
          consecutiveFailures++;
          if (trial || consecutiveFailures >= options.failures) openUntil = Date.now() + options.resetMs;
        }
        throw error;
      } finally {
        if (trial) trialInFlight = false;
      }
    },
  };
  return breaker;
}
