import { settleLinkHosts } from './link-host.ts';

/**
 * A fault schedule: faults applied at given times while something else (a load) runs.
 * Every fault applied becomes an Event with the time it actually happened, so that a
 * recovery can be measured from the fault, not from when it was planned.
 */
export interface ScheduledFault {
  /** Milliseconds after the schedule starts. */
  at: number;
  /** What it does, e.g. `kill`, `start`, `latency 200ms`. */
  kind: string;
  /** What it is done to, e.g. `replica1`. */
  target: string;
  apply(): Promise<unknown>;
}

export interface FaultEvent {
  /** Milliseconds after the schedule started, when the fault began to apply. */
  t: number;
  kind: string;
  target: string;
  /**
   * How long applying it took (a kill waits until the processes are gone; a change to a link
   * until the link host has applied it): by `t + durationMs` the fault is in effect.
   */
  durationMs: number;
  /** Set when applying the fault failed; the schedule goes on. */
  error?: string;
}

export interface RunningSchedule {
  /** Resolves with every event once the last fault has been applied. */
  done: Promise<FaultEvent[]>;
  /** Cancels the faults not applied yet. */
  cancel(): void;
}

/** Starts the schedule now; faults run in `at` order, each at its time (or as soon as the previous one is done). */
export function runSchedule(faults: ScheduledFault[]): RunningSchedule {
  const started = performance.now();
  const ordered = [...faults].sort((a, b) => a.at - b.at);
  let cancelled = false;
  let wake: (() => void) | undefined;
  const done = (async () => {
    const events: FaultEvent[] = [];
    for (const fault of ordered) {
      // Timers may fire a fraction of a millisecond early: wait again until the time has come.
      for (
        let wait = fault.at - (performance.now() - started);
        wait > 0 && !cancelled;
        wait = fault.at - (performance.now() - started)
      ) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.ceil(wait));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (cancelled) break;
      const t = performance.now() - started;
      try {
        await fault.apply();
        // A fault on a link (a toxic, a re-pointed writer) takes effect when the link host has
        // applied it: the event's duration runs until then.
        await settleLinkHosts();
        events.push({ t, kind: fault.kind, target: fault.target, durationMs: performance.now() - started - t });
      } catch (error) {
        events.push({
          t,
          kind: fault.kind,
          target: fault.target,
          durationMs: performance.now() - started - t,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return events;
  })();
  return {
    done,
    cancel: () => {
      cancelled = true;
      wake?.();
    },
  };
}
