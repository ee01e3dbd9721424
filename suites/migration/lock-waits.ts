/**
 * Who waited on whom during a migration, from samples of pg_stat_activity taken every
 * ~20 ms: pure, so the attribution is tested without a database.
 */

/** A session waiting for a lock when a sample was taken. */
export interface LockWait {
  pid: number;
  user: string;
  /** When its current query started (the wait's identity together with the pid). */
  queryStart: string;
  /** How long it had been waiting (since its query started) when sampled. */
  waitedMs: number;
  /** pg_blocking_pids(): the sessions holding, or queued ahead for, a lock it needs. */
  blockers: number[];
}

export interface ActivitySample {
  /**
   * Milliseconds on the suite's clock (the statements' windows are on the same one): the
   * middle of the sampling query's round trip, when the server most likely took it.
   */
  t: number;
  waits: LockWait[];
}

/** A statement of the migration and when it ran, on the samples' clock. */
export interface StatementWindow {
  index: number;
  start: number;
  end: number;
}

export interface BlockedApp {
  /** Distinct waits of the app's sessions behind the statement (a session waiting twice counts twice). */
  sessions: number;
  /** The longest of them, as last seen (a lower bound: it may have waited up to one sample longer). */
  maxMs: number;
  /** Their sum. */
  totalMs: number;
}

/** The waits in one sample that the migration's sessions cause, directly or behind a session they block (the lock queue). */
function blockedBy(sample: ActivitySample, migration: ReadonlySet<number>): LockWait[] {
  const blocked = new Set<number>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const wait of sample.waits) {
      if (blocked.has(wait.pid) || migration.has(wait.pid)) continue;
      if (wait.blockers.some((pid) => migration.has(pid) || blocked.has(pid))) {
        blocked.add(wait.pid);
        grew = true;
      }
    }
  }
  return sample.waits.filter((w) => blocked.has(w.pid));
}

/**
 * The app's waits behind each statement: a wait is the statement's when it was seen while
 * the statement ran. Only `appUser`'s sessions count: dbproof's own (a held reader) are not the app.
 */
export function blockedApp(
  samples: ActivitySample[],
  windows: StatementWindow[],
  migration: ReadonlySet<number>,
  appUser: string,
): Map<number, BlockedApp> {
  const longest = new Map<number, Map<string, number>>();
  for (const sample of samples) {
    const window = windows.find((w) => sample.t >= w.start && sample.t <= w.end);
    if (!window) continue;
    const waits = longest.get(window.index) ?? new Map<string, number>();
    longest.set(window.index, waits);
    for (const wait of blockedBy(sample, migration)) {
      if (wait.user !== appUser) continue;
      const key = `${wait.pid}@${wait.queryStart}`;
      waits.set(key, Math.max(waits.get(key) ?? 0, wait.waitedMs));
    }
  }
  const result = new Map<number, BlockedApp>();
  for (const window of windows) {
    const waits = [...(longest.get(window.index)?.values() ?? [])];
    result.set(window.index, {
      sessions: waits.length,
      maxMs: waits.length ? Math.round(Math.max(...waits)) : 0,
      totalMs: Math.round(waits.reduce((a, b) => a + b, 0)),
    });
  }
  return result;
}
