import { setTimeout as sleep } from 'node:timers/promises';
import { InfrastructureError } from '../../harness/errors.ts';
import { withClient } from '../../harness/pg/client.ts';
import { redact } from '../../harness/redact.ts';
import type { ActivitySample } from './lock-waits.ts';
import { USER_TABLES } from './statement-facts.ts';

/** How often pg_stat_activity and pg_locks are read while the migration runs: a wait or a statement shorter than this may go unseen. */
export const SAMPLE_MS = 20;

/**
 * The application_name of the migration's sessions: dbproof's own connection for a folder of
 * .sql files, and (through PGAPPNAME) the team's migration command's. It is how their
 * sessions are told from the app's, which use the same role.
 */
export const MIGRATION_APP = 'dbproof-migration';

/** A migration session seen in a sample: what it ran and the relation locks it held. */
export interface MigrationSighting {
  t: number;
  pid: number;
  query: string;
  queryStart: string;
  state: string;
  /** Waiting for a lock of its own, and for how long so far. */
  waitingMs: number;
  locks: [string, string][];
  /** What pg_stat_progress_* said it was doing (an index build, a rewrite, a vacuum), e.g. `create index: building index 40 %`. */
  progress?: string;
}

export interface Sampled {
  samples: ActivitySample[];
  sightings: MigrationSighting[];
  /** The replicas' worst replay lag seen, in bytes of WAL. */
  lagBytes: number;
  /** `[t, the worst replica's lag in bytes]` at each sample. */
  lags: [number, number][];
  /** Replicas that were not streaming at some sample (a frozen or lost standby is dropped by its walsender): their lag is unknown, not 0. */
  notStreaming: Set<string>;
}

/**
 * Reads, every SAMPLE_MS until `stop`, who waits for a lock and on whom (pg_blocking_pids),
 * what the migration's sessions run and which locks they hold, and the replicas' lag. Each
 * reading is placed at the middle of its query's round trip, on the caller's clock.
 */
export function sampleActivity(
  url: string,
  database: string,
  now: () => number,
  replicas: readonly string[] = [],
): { stop(): Promise<Sampled> } {
  const sampled: Sampled = { samples: [], sightings: [], lagBytes: 0, lags: [], notStreaming: new Set() };
  let running = true;
  const done = withClient(
    url,
    async (client) => {
      while (running) {
        const asked = now();
        const { rows } = await client.query<{
          pid: number;
          user: string;
          app: string;
          state: string;
          query: string;
          query_start: string;
          waiting: boolean;
          waited_ms: number;
          blockers: number[];
        }>(
          `SELECT a.pid, a.usename AS user, a.application_name AS app, a.state, a.query, a.query_start::text,
                  a.wait_event_type = 'Lock' AS waiting,
                  extract(epoch FROM clock_timestamp() - a.query_start) * 1000 AS waited_ms,
                  pg_blocking_pids(a.pid) AS blockers
             FROM pg_stat_activity a
            WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND (a.wait_event_type = 'Lock' OR a.application_name = $2)`,
          [database, MIGRATION_APP],
        );
        const t = (asked + now()) / 2;
        sampled.samples.push({
          t,
          waits: rows
            .filter((r) => r.waiting)
            .map((r) => ({
              pid: r.pid,
              user: r.user,
              queryStart: r.query_start,
              waitedMs: Number(r.waited_ms),
              blockers: r.blockers,
            })),
        });
        const migration = rows.filter((r) => r.app === MIGRATION_APP && r.state === 'active');
        if (migration.length > 0) {
          const locksAsked = now();
          const held = await client.query<{ pid: number; name: string; mode: string }>(
            `SELECT l.pid, c.oid::regclass::text AS name, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
              WHERE l.pid = ANY($1) AND l.granted AND ${USER_TABLES}`,
            [migration.map((r) => r.pid)],
          );
          const progress = await client.query<{
            pid: number;
            what: string;
            phase: string;
            done: string;
            total: string;
          }>(
            `SELECT pid, 'create index' AS what, phase, blocks_done::text AS done, blocks_total::text AS total FROM pg_stat_progress_create_index WHERE pid = ANY($1)
             UNION ALL SELECT pid, lower(command), phase, heap_blks_scanned::text, heap_blks_total::text FROM pg_stat_progress_cluster WHERE pid = ANY($1)
             UNION ALL SELECT pid, 'vacuum', phase, heap_blks_scanned::text, heap_blks_total::text FROM pg_stat_progress_vacuum WHERE pid = ANY($1)`,
            [migration.map((r) => r.pid)],
          );
          const at = (locksAsked + now()) / 2;
          for (const session of migration)
            sampled.sightings.push({
              t: at,
              pid: session.pid,
              query: session.query,
              queryStart: session.query_start,
              state: session.state,
              waitingMs: session.waiting ? Number(session.waited_ms) : 0,
              locks: held.rows.filter((l) => l.pid === session.pid).map((l) => [l.name, l.mode]),
              ...progressOf(progress.rows.find((p) => p.pid === session.pid)),
            });
        }
        const lag = await client.query<{ name: string; bytes: string | null }>(
          'SELECT application_name AS name, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS bytes FROM pg_stat_replication',
        );
        const streaming = new Set(lag.rows.map((r) => r.name));
        for (const replica of replicas) if (!streaming.has(replica)) sampled.notStreaming.add(replica);
        const lagBytes = Math.max(0, ...lag.rows.map((r) => Number(r.bytes ?? 0)));
        sampled.lags.push([now(), lagBytes]);
        sampled.lagBytes = Math.max(sampled.lagBytes, lagBytes);
        await sleep(Math.max(0, asked + SAMPLE_MS - now()));
      }
    },
    10_000,
  );
  // A sampler whose connection fails (the primary restarted, too many clients) must not be an
  // unhandled rejection ending the process: it is reported by stop().
  let failure: unknown;
  done.catch((error) => {
    failure = error;
    running = false;
  });
  return {
    async stop() {
      running = false;
      await done.catch(() => {});
      if (failure)
        throw new InfrastructureError(
          `the sampling of pg_stat_activity and pg_locks on the primary failed while the migration ran: ${redact((failure as Error).message ?? String(failure))}`,
        );
      return sampled;
    },
  };
}

/** One row of pg_stat_progress_* as a phrase: `create index: building index 40 %`. */
function progressOf(row: { what: string; phase: string; done: string; total: string } | undefined): {
  progress?: string;
} {
  if (!row) return {};
  const total = Number(row.total);
  const share = total > 0 ? ` ${Math.round((Number(row.done) / total) * 100)} %` : '';
  return { progress: `${row.what}: ${row.phase}${share}` };
}
