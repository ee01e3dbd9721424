/**
 * Replication facts asked of the servers themselves, in SQL: the same for every
 * provider (native processes, containers, an external cluster).
 */
import type pg from 'pg';
import { DbproofError } from '../errors.ts';
import { queryRows, withClient } from '../pg/client.ts';
import { pollUntil } from '../wait.ts';

const POLL_MS = 10;

export async function queryRecovery(adminUrl: string): Promise<boolean> {
  const [row] = await queryRows<{ recovery: boolean }>(adminUrl, 'SELECT pg_is_in_recovery() AS recovery');
  return row!.recovery;
}

/** `pg_promote` waits for the end of recovery; we also wait until the node takes writes. */
export async function promoteAndWait(adminUrl: string, timeoutMs = 60_000): Promise<void> {
  const [row] = await queryRows<{ promoted: boolean }>(adminUrl, 'SELECT pg_promote(true, $1) AS promoted', [
    Math.ceil(timeoutMs / 1000),
  ]);
  if (!row?.promoted) throw new DbproofError(`promotion did not finish within ${timeoutMs} ms`);
  const takesWrites = await pollUntil(async () => !(await queryRecovery(adminUrl)), { timeoutMs, intervalMs: POLL_MS });
  if (!takesWrites) throw new DbproofError(`node still in recovery ${timeoutMs} ms after pg_promote`);
}

export interface ReplicationRow {
  application_name: string;
  state: string;
  sync_state: string;
  replay_lsn: string | null;
  lag_bytes: string | null;
}

/** The primary's view of its standbys (pg_stat_replication), with the replay lag in bytes. */
export async function replicationStatus(primaryAdminUrl: string, connectTimeoutMs?: number): Promise<ReplicationRow[]> {
  return queryRows<ReplicationRow>(
    primaryAdminUrl,
    `SELECT application_name, state, sync_state, replay_lsn::text,
            pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS lag_bytes
       FROM pg_stat_replication ORDER BY application_name`,
    [],
    connectTimeoutMs,
  );
}

/** Resolves when every named standby shows `streaming` in the primary's pg_stat_replication. */
export async function waitForStreaming(primaryAdminUrl: string, names: string[], timeoutMs: number): Promise<void> {
  if (names.length === 0) return;
  let missing = names;
  const allStreaming = await withClient(primaryAdminUrl, (client) =>
    pollUntil(
      async () => {
        const { rows } = await client.query<{ application_name: string }>(
          "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'",
        );
        const streaming = new Set(rows.map((r) => r.application_name));
        missing = names.filter((n) => !streaming.has(n));
        return missing.length === 0;
      },
      { timeoutMs, intervalMs: POLL_MS },
    ),
  );
  if (!allStreaming) throw new DbproofError(`${missing.join(', ')} did not start streaming within ${timeoutMs} ms`);
}

/**
 * The replay position of a standby: asked of the standby itself when it answers
 * quickly, else read from the primary's pg_stat_replication (a frozen standby
 * cannot answer, but the primary still remembers what it last confirmed).
 */
async function replayLsn(upstreamAdminUrl: string, replicaAdminUrl: string, name: string): Promise<string> {
  try {
    const [row] = await queryRows<{ lsn: string | null }>(
      replicaAdminUrl,
      'SELECT pg_last_wal_replay_lsn()::text AS lsn',
      [],
      500,
    );
    if (row?.lsn) return row.lsn;
  } catch {
    // fall through to the primary's view
  }
  const rows = await queryRows<{ replay_lsn: string | null }>(
    upstreamAdminUrl,
    'SELECT replay_lsn::text FROM pg_stat_replication WHERE application_name = $1',
    [name],
  );
  const lsn = rows[0]?.replay_lsn;
  if (!lsn)
    throw new DbproofError(`${name} neither answers nor streams from its primary: no replay position to compare`);
  return lsn;
}

/** Bytes the primary has written beyond what the standby has replayed. */
export async function lagBehind(upstreamAdminUrl: string, replicaAdminUrl: string, name: string): Promise<number> {
  const lsn = await replayLsn(upstreamAdminUrl, replicaAdminUrl, name);
  const [row] = await queryRows<{ lag: string }>(
    upstreamAdminUrl,
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS lag',
    [lsn],
  );
  return Math.max(0, Number(row!.lag));
}

/** Resolves when the standby has replayed everything the primary had written when this was called. */
export async function waitForReplayed(
  upstreamAdminUrl: string,
  replicaAdminUrl: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const remaining = () => deadline - Date.now();
  const [target] = await queryRows<{ lsn: string }>(upstreamAdminUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
  const replayed = (client: pg.Client) =>
    pollUntil(
      async () => {
        const { rows } = await client.query<{ done: boolean }>(
          'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done',
          [target!.lsn],
        );
        return rows[0]!.done;
      },
      { timeoutMs: remaining(), intervalMs: POLL_MS },
    );
  const caughtUp = await pollUntil(
    async () => {
      try {
        // One connection asked until the deadline; a new one when it fails.
        return await withClient(replicaAdminUrl, replayed, Math.max(100, remaining()));
      } catch {
        return false; // not reachable yet (restarting, frozen): retry until the deadline
      }
    },
    { timeoutMs: remaining(), intervalMs: POLL_MS },
  );
  if (!caughtUp) {
    const lag = await lagBehind(upstreamAdminUrl, replicaAdminUrl, name).catch(() => undefined);
    throw new DbproofError(
      `${name} did not catch up within ${timeoutMs} ms${lag === undefined ? '' : ` (still ${lag} bytes behind)`}`,
    );
  }
}
