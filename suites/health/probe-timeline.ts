import type { Sample } from '../../load/timeline.ts';

/** When a probe's answers changed around a fault, from its samples (each seen at its due time + latency). */
export interface ProbeFlips {
  /** From the fault to the first non-2xx answer seen after it; null: none while it lasted. */
  flipMs: number | null;
  /** From the recovery to the first 2xx answer after which every answer was 2xx; null: not by the end. */
  backMs: number | null;
  /** Probes answered while the fault lasted, and how many of them 2xx. */
  duringFault: { probes: number; ok: number };
}

const seenAt = (s: Sample) => s.t + s.latencyMs;

/** The flip and the return of a readiness probe around a fault from `faultAt` to `returnAt` (ms on the load's clock). */
export function probeFlips(samples: readonly Sample[], faultAt: number, returnAt: number): ProbeFlips {
  const ordered = [...samples].sort((a, b) => seenAt(a) - seenAt(b));
  const during = ordered.filter((s) => seenAt(s) >= faultAt && seenAt(s) < returnAt);
  const firstFailure = during.find((s) => !s.ok);
  const after = ordered.filter((s) => seenAt(s) >= returnAt);
  let back: Sample | undefined;
  for (let i = after.length - 1; i >= 0 && after[i]!.ok; i--) back = after[i];
  return {
    flipMs: firstFailure ? seenAt(firstFailure) - faultAt : null,
    backMs: back ? Math.max(0, seenAt(back) - returnAt) : null,
    duringFault: { probes: during.length, ok: during.filter((s) => s.ok).length },
  };
}

/**
 * The `p`th percentile of the latencies of the samples due from `from` and answered before
 * `until` (null: none): a probe sent just before a fault and answered in it measures the
 * fault, not the probe.
 */
export function percentileBetween(samples: readonly Sample[], from: number, until: number, p: number): number | null {
  const latencies = samples
    .filter((s) => s.t >= from && seenAt(s) < until)
    .map((s) => s.latencyMs)
    .sort((a, b) => a - b);
  if (latencies.length === 0) return null;
  return latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
}
