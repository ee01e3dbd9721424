/**
 * Replication facts asked of the servers themselves, in SQL: the same for every
 * provider (native processes, containers, an external cluster).
 */
import { DbproofError } from '../errors.ts';
import { queryRows, withClient } from '../pg/client.ts';

const POLL_MS = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function queryRecovery(adminUrl: string): Promise<boolean> {
  const [row] = await queryRows<{ recovery: boolean }>(adminUrl, 'SELECT pg_is_in_recovery() AS recovery');
  return row!.recovery;
}

/** `pg_promote` waits for the end of recovery; we also wait until the node takes writes. */
export async function promoteAndWait(adminUrl: string, timeoutMs = 60_000): Promise<void> {
  const [row] = await queryRows<{ promoted: boolean }>(adminUrl, 'SELECT pg_promote(true, $1) AS promoted', [Math.ceil(timeoutMs / 1000)]);
  if (!row?.promoted) throw new DbproofError(`promotion did not finish within ${timeoutMs} ms`);
  const deadline = Date.now() + timeoutMs;
  while (await queryRecovery(adminUrl)) {
    if (Date.now() > deadline) throw new DbproofError(`node still in recovery ${timeoutMs} ms after pg_promote`);
    await sleep(POLL_MS);
  }
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
  const deadline = Date.now() + timeoutMs;
  await withClient(primaryAdminUrl, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ application_name: string }>(
        "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'",
      );
      const streaming = new Set(rows.map((r) => r.application_name));
      const missing = names.filter((n) => !streaming.has(n));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new DbproofError(`${missing.join(', ')} did not start streaming within ${timeoutMs} ms`);
      await sleep(POLL_MS);
    }
  });
}

/**
 * The replay position of a standby: asked of the standby itself when it answers
 * quickly, else read from the primary's pg_stat_replication (a frozen standby
 * cannot answer, but the primary still remembers what it last confirmed).
 */
async function replayLsn(upstreamAdminUrl: string, replicaAdminUrl: string, name: string): Promise<string> {
  try {
    const [row] = await queryRows<{ lsn: string | null }>(replicaAdminUrl, 'SELECT pg_last_wal_replay_lsn()::text AS lsn', [], 500);
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
  if (!lsn) throw new DbproofError(`${name} neither answers nor streams from its primary: no replay position to compare`);
  return lsn;
}

/** Bytes the primary has written beyond what the standby has replayed. */
export async function lagBehind(upstreamAdminUrl: string, replicaAdminUrl: string, name: string): Promise<number> {
  const lsn = await replayLsn(upstreamAdminUrl, replicaAdminUrl, name);
  const [row] = await queryRows<{ lag: string }>(upstreamAdminUrl, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS lag', [lsn]);
  return Math.max(0, Number(row!.lag));
}

/** Resolves when the standby has replayed everything the primary had written when this was called. */
export async function waitForReplayed(upstreamAdminUrl: string, replicaAdminUrl: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const [target] = await queryRows<{ lsn: string }>(upstreamAdminUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      const caughtUp = await withClient(
        replicaAdminUrl,
        async (client) => {
          for (;;) {
            const { rows } = await client.query<{ done: boolean }>('SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done', [target!.lsn]);
            if (rows[0]!.done) return true;
            if (Date.now() > deadline) return false;
            await sleep(POLL_MS);
          }
        },
        Math.max(100, remaining),
      );
      if (caughtUp) return;
    } catch {
      // not reachable yet (restarting, frozen): retry until the deadline
    }
    if (Date.now() > deadline) {
      const lag = await lagBehind(upstreamAdminUrl, replicaAdminUrl, name).catch(() => undefined);
      throw new DbproofError(`${name} did not catch up within ${timeoutMs} ms${lag === undefined ? '' : ` (still ${lag} bytes behind)`}`);
    }
    await sleep(POLL_MS);
  }
}
