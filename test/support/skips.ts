import type { TestOptions } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /**
     * Why a test is skipped on this machine. The banner at the end of `vitest run`
     * (test/support/skip-banner.ts) counts the skipped tests by it.
     */
    skippedFor?: string;
    /** What runs a test skipped for `skippedFor`: the banner's second line. */
    toRunIt?: string;
  }
}

/** Why a test is skipped here, and what would run it. */
export interface SkipReason {
  reason: string;
  toRunIt: string;
}

/**
 * A describe's or a test's options: nothing where it `runs`, else skipped with the reason
 * in its meta (a describe's tests inherit it), so the end-of-run banner counts it:
 * `describe('containers provider', skipUnless(engine, NO_DOCKER_ENGINE), () => …)`.
 */
export function skipUnless(runs: boolean, why: SkipReason): TestOptions {
  return runs ? {} : { skip: true, meta: { skippedFor: why.reason, toRunIt: why.toRunIt } };
}
