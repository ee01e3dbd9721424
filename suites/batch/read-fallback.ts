import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { UsageError } from '../../harness/errors.ts';
import type { FaultEvent } from '../../harness/faults/schedule.ts';
import { parseRequest, Session } from '../../harness/http/session.ts';
import { databaseUrl, queryRows } from '../../harness/pg/client.ts';
import { redact } from '../../harness/redact.ts';
import type { SuiteContext } from '../../harness/suite/index.ts';
import { pollUntil } from '../../harness/wait.ts';
import type { ReadCase } from './options.ts';

export interface ReadFallback {
  /** Each forced request that did not answer 2xx with the unforced answer, with why. */
  failures: string[];
  /** The slowest forced request, ms (null: none answered). */
  slowestMs: number | null;
  /** Forced requests in which no statement waited for the lock: nothing was cancelled, nothing tested. */
  missed: string[];
  events: FaultEvent[];
}

/** The app's statements in its database that wait for a lock, on one node. */
const WAITING_SQL = `SELECT pid FROM pg_stat_activity
  WHERE usename = $1 AND datname = $2 AND state = 'active' AND wait_event_type = 'Lock' ORDER BY query_start LIMIT 1`;
const LOCK_HELD_SQL = `SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'relation' AND relation = to_regclass($1::text) AND mode = 'AccessExclusiveLock' AND granted`;

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Refuses, before anything is sent, a read whose table is not there or which does not answer 2xx unforced. */
export async function checkRead(context: SuiteContext, read: ReadCase, requestTimeoutMs: number): Promise<void> {
  const url = databaseUrl(context.topology.primary.adminUrl, context.database);
  const [table] = await queryRows<{ exists: boolean }>(url, 'SELECT to_regclass($1::text) IS NOT NULL AS exists', [
    read.lockTable,
  ]);
  if (!table!.exists)
    throw new UsageError(
      `batch-fallback: ${read.request}: there is no table ${read.lockTable} to lock; set its lockTable`,
    );
  const answer = await new Session(context.app.url, requestTimeoutMs).send(parseRequest(read.request));
  if (answer.status < 200 || answer.status >= 300)
    throw new UsageError(
      `batch-fallback: ${read.request} answered ${answer.status} without a fault (${redact(JSON.stringify(answer.body)).slice(0, 120)}); give a read that answers 2xx`,
    );
}

/**
 * The read side: the batched statement of a read is made to fail as a statement timeout
 * makes it fail (cancelled, SQLSTATE 57014) while the rest of the request runs as usual.
 * Its table is locked on the primary (every replica replays the lock), the request sent,
 * the app's first statement waiting for the lock cancelled, the lock released. The answer
 * must be the one the read gives unforced, within the read's budget.
 */
export async function readFallback(
  context: SuiteContext,
  read: ReadCase,
  role: string,
  requestTimeoutMs: number,
): Promise<ReadFallback> {
  const nodes = [context.topology.primary, ...context.topology.replicas];
  const clients = await Promise.all(nodes.map((n) => connected(databaseUrl(n.adminUrl, context.database))));
  const session = new Session(context.app.url, requestTimeoutMs);
  const spec = parseRequest(read.request);
  const result: ReadFallback = { failures: [], slowestMs: null, missed: [], events: [] };
  try {
    const unforced = await session.send(spec);
    for (let n = 1; n <= read.times; n++) {
      const locker = await connected(databaseUrl(context.topology.primary.adminUrl, context.database));
      try {
        await locker.query('BEGIN');
        await locker.query(
          `LOCK TABLE ${read.lockTable.split('.').map(pg.escapeIdentifier).join('.')} IN ACCESS EXCLUSIVE MODE`,
        );
        // The replicas hold it too before the request goes: the app may read from any node. The
        // lock's WAL record waits in the primary's buffers for a flush: a commit elsewhere makes one.
        await clients[0]!.query('SELECT txid_current()');
        for (const [i, client] of clients.entries()) {
          if (i === 0) continue;
          const replayed = await pollUntil(
            async () => (await client.query<{ n: number }>(LOCK_HELD_SQL, [read.lockTable])).rows[0]!.n > 0,
            { timeoutMs: 10_000, intervalMs: 10 },
          );
          if (!replayed) throw new Error(`${nodes[i]!.name} did not replay the lock on ${read.lockTable} within 10 s`);
        }
        const started = performance.now();
        let answered = false;
        const sending = session.send(spec).finally(() => {
          answered = true;
        });
        const cancelled = await pollUntil(
          async () => {
            if (answered) return 'answered';
            for (const [i, client] of clients.entries()) {
              const [waiting] = (await client.query<{ pid: number }>(WAITING_SQL, [role, context.database])).rows;
              if (!waiting) continue;
              await client.query('SELECT pg_cancel_backend($1)', [waiting.pid]);
              return nodes[i]!.name;
            }
            return false;
          },
          { timeoutMs: requestTimeoutMs, intervalMs: 5 },
        );
        if (cancelled && cancelled !== 'answered')
          result.events.push({
            t: Math.round(performance.now() - started),
            kind: 'cancel',
            target: cancelled,
            durationMs: 0,
          });
        await locker.query('COMMIT');
        const answer = await sending.catch((error: Error) => error);
        const ms = performance.now() - started;
        const what = `${read.request} #${n}`;
        if (!cancelled || cancelled === 'answered')
          result.missed.push(`${what}: no statement waited for the lock on ${read.lockTable}`);
        if (answer instanceof Error) {
          result.failures.push(`${what}: no answer (${answer.message})`);
          continue;
        }
        result.slowestMs = Math.max(result.slowestMs ?? 0, ms);
        if (answer.status < 200 || answer.status >= 300)
          result.failures.push(`${what}: HTTP ${answer.status} ${redact(JSON.stringify(answer.body)).slice(0, 120)}`);
        else if (!isDeepStrictEqual(answer.body, unforced.body))
          result.failures.push(`${what}: answered otherwise than unforced`);
      } finally {
        await locker.end().catch(() => {});
      }
    }
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
