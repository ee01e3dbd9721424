import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { z } from 'zod';
import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import { UsageError } from '../../harness/errors.ts';
import { databaseUrl, withClient } from '../../harness/pg/client.ts';
import { redact } from '../../harness/redact.ts';
import { defineSuite, LastError, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import type { Timeline } from '../../load/timeline.ts';
import { percentileOf } from '../support/percentile.ts';
import { count, ms, rate, request } from '../support/options.ts';
import { type ActivitySample, blockedApp, type StatementWindow } from './lock-waits.ts';
import { type MigrationStatement, migrationFiles, readMigrations } from './sql-files.ts';

/** Lock modes that block the app's writes (INSERT/UPDATE/DELETE take ROW EXCLUSIVE); the strongest also block reads. */
const BLOCKS_WRITES = new Set(['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']);

/** How often pg_stat_activity and pg_locks are read while the migration runs: a wait shorter than this may go unseen. */
const SAMPLE_MS = 20;

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/i, 'a table name, e.g. orders or app.orders');

export const rehearsalOptions = z
  .object({
    /** The folder of `.sql` migrations, run in file-name order, statement by statement (relative to the config). */
    migrations: z.string().min(1),
    /** The app's traffic meanwhile: this request at `rate` per second (open model), `{key}` a new key each time. */
    write: request('POST /notes'),
    writeBody: z.unknown().default({ key: '{key}', inspectionId: 1, body: 'note {key}' }),
    rate: rate(50),
    /** Longer than the migration: every request it could hold up is judged. */
    durationMs: ms(10_000),
    /** The load before the migration starts: the baseline its latency is compared with. */
    migrationAtMs: ms(2000),
    /**
     * A long-running read held on a table while the migration starts (the lock-queue hazard:
     * a DDL waiting behind it for its lock makes every query after it wait too).
     */
    longReader: z
      .object({
        table: identifier,
        /** When it starts (before the migration), and how long it holds its transaction open. */
        atMs: ms(1500),
        holdMs: ms(1500),
      })
      .strict()
      .optional(),
    /** Run before the load (as a superuser, in the app's database): e.g. grow a table so that a scan of it matters. */
    prepare: z.array(z.string().min(1)).default([]),
    /** Run after the rehearsal, so it can run again on the same database. */
    cleanup: z.array(z.string().min(1)).default([]),
    budgets: z
      .object({
        /** The longest any of the app's queries waited behind one statement. */
        appBlockedMs: ms(200),
        /** A table with more rows than this is not to be rewritten or scanned under a lock that blocks writes. */
        rewriteRows: count(10_000),
        /** Indexes left invalid (a failed CREATE INDEX CONCURRENTLY). */
        invalidIndexes: count(0),
        /** The app's failed requests while the migration ran. */
        errors: count(0),
        /** The app's p99 while the migration ran. */
        p99Ms: ms(1000),
        /** The replicas' replay lag, at most, while it ran (bytes of WAL behind). */
        replicaLagBytes: count(64 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RehearsalOptions = z.output<typeof rehearsalOptions>;

/** What a statement did, read in its transaction before it committed (where it could be) and from the samples. */
interface StatementFacts {
  statement: MigrationStatement;
  start: number;
  end: number;
  error?: string;
  lockTimeout: string;
  statementTimeout: string;
  /** `table: mode`, the strongest relation locks it held. */
  locks: Map<string, string>;
  /** Tables it rewrote (a new relfilenode) and tables it read in full (a sequential scan), with their rows. */
  rewrote: { table: string; rows: number }[];
  scanned: { table: string; rows: number }[];
  walBytes: number;
  /** How long it waited for its own lock (seen in the samples). */
  waitedMs: number;
  /** Whether its locks, scans and rewrites were read in its transaction (else its locks are the samples'). */
  read: boolean;
}

const LOCK_ORDER = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
];
const stronger = (a: string | undefined, b: string) => (a && LOCK_ORDER.indexOf(a) >= LOCK_ORDER.indexOf(b) ? a : b);

const USER_TABLES = `c.relkind IN ('r', 'p', 'm') AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)`;

type Tables = Map<string, { filenode: string; rows: number }>;

async function tables(client: pg.Client): Promise<Tables> {
  const { rows } = await client.query<{ name: string; filenode: string; rows: number }>(
    `SELECT c.oid::regclass::text AS name, pg_relation_filenode(c.oid)::text AS filenode, greatest(c.reltuples, 0)::float8 AS rows
       FROM pg_class c WHERE ${USER_TABLES}`,
  );
  return new Map(rows.map((r) => [r.name, { filenode: r.filenode, rows: r.rows }]));
}

/**
 * The sequential scans this session has counted and not yet reported: read twice in the
 * same transaction block, around a statement, their difference is what the statement
 * scanned (Postgres 15 keeps these counts across transactions until it reports them, which
 * it does only between transactions, so a difference taken inside one is exact).
 */
async function pendingScans(client: pg.Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ name: string; scans: number }>(
    'SELECT relid::regclass::text AS name, seq_scan::int AS scans FROM pg_stat_xact_user_tables WHERE seq_scan > 0',
  );
  return new Map(rows.map((r) => [r.name, r.scans]));
}

/** Read inside the statement's transaction: the relation locks it holds. */
async function heldLocks(client: pg.Client): Promise<[string, string][]> {
  const { rows } = await client.query<{ name: string; mode: string }>(
    `SELECT c.oid::regclass::text AS name, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
      WHERE l.pid = pg_backend_pid() AND l.granted AND ${USER_TABLES}`,
  );
  return rows.map((r) => [r.name, r.mode]);
}

const lsn = async (client: pg.Client) =>
  (await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
const walBetween = async (client: pg.Client, from: string) =>
  Number(
    (
      await client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS bytes', [
        from,
      ])
    ).rows[0]!.bytes,
  );

/**
 * Runs the migration statement by statement on one connection. A statement dbproof may wrap
 * runs in a transaction of its own, so that what it did (locks, scans, rewrites) is read
 * before it commits: that adds one round trip to the time it holds its locks. A statement in
 * the file's own transaction is read in that transaction.
 */
async function runMigration(
  client: pg.Client,
  statements: MigrationStatement[],
  now: () => number,
  onStatement: (index: number) => void,
): Promise<StatementFacts[]> {
  const facts: StatementFacts[] = [];
  let fileTransaction = false;
  for (const [i, statement] of statements.entries()) {
    onStatement(i);
    const settings = await client.query<{ lock: string; statement: string }>(
      "SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement",
    );
    const before = await tables(client);
    const from = await lsn(client);
    const fact: StatementFacts = {
      statement,
      start: now(),
      end: 0,
      lockTimeout: settings.rows[0]!.lock,
      statementTimeout: settings.rows[0]!.statement,
      locks: new Map(),
      rewrote: [],
      scanned: [],
      walBytes: 0,
      waitedMs: 0,
      read: statement.wrappable || (fileTransaction && statement.transaction === 0),
    };
    const { read } = fact;
    try {
      if (statement.wrappable) await client.query('BEGIN');
      const scansBefore = read ? await pendingScans(client) : new Map<string, number>();
      await client.query(statement.sql);
      if (read) {
        for (const [table, mode] of await heldLocks(client))
          fact.locks.set(table, stronger(fact.locks.get(table), mode));
        for (const [table, scans] of await pendingScans(client))
          if (scans > (scansBefore.get(table) ?? 0)) fact.scanned.push({ table, rows: before.get(table)?.rows ?? 0 });
        for (const [table, after] of await tables(client)) {
          const was = before.get(table);
          if (was && was.filenode !== after.filenode) fact.rewrote.push({ table, rows: was.rows });
        }
      }
      if (statement.wrappable) await client.query('COMMIT');
      if (statement.transaction === 1) fileTransaction = true;
      if (statement.transaction === -1) fileTransaction = false;
      if (!read)
        for (const [table, after] of await tables(client)) {
          const was = before.get(table);
          if (was && was.filenode !== after.filenode) fact.rewrote.push({ table, rows: was.rows });
        }
    } catch (error) {
      fact.error = (error as Error).message;
      await client.query('ROLLBACK').catch(() => {});
    }
    fact.end = now();
    fact.walBytes = await walBetween(client, from).catch(() => 0);
    facts.push(fact);
    if (fact.error) break;
  }
  return facts;
}

/** Samples who waits for which lock (and the migration's own locks) every SAMPLE_MS until `stop`. */
function sampleActivity(
  url: string,
  database: string,
  migrationPid: number,
  now: () => number,
): { stop(): Promise<{ samples: ActivitySample[]; locks: Map<number, [string, string][]>; lagBytes: number }> } {
  const samples: ActivitySample[] = [];
  const locks = new Map<number, [string, string][]>();
  let lagBytes = 0;
  let running = true;
  const done = withClient(
    url,
    async (client) => {
      while (running) {
        const asked = now();
        const next = asked + SAMPLE_MS;
        const { rows } = await client.query<{
          pid: number;
          user: string;
          query_start: string;
          waited_ms: number;
          blockers: number[];
        }>(
          `SELECT a.pid, a.usename AS user, a.query_start::text, extract(epoch FROM clock_timestamp() - a.query_start) * 1000 AS waited_ms,
                pg_blocking_pids(a.pid) AS blockers
           FROM pg_stat_activity a WHERE a.datname = $1 AND a.wait_event_type = 'Lock'`,
          [database],
        );
        samples.push({
          t: (asked + now()) / 2,
          waits: rows.map((r) => ({
            pid: r.pid,
            user: r.user,
            queryStart: r.query_start,
            waitedMs: Number(r.waited_ms),
            blockers: r.blockers,
          })),
        });
        const locksAsked = now();
        const held = await client.query<{ name: string; mode: string }>(
          `SELECT c.oid::regclass::text AS name, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE l.pid = $1 AND l.granted AND ${USER_TABLES}`,
          [migrationPid],
        );
        if (held.rows.length)
          locks.set(
            (locksAsked + now()) / 2,
            held.rows.map((r) => [r.name, r.mode]),
          );
        const lag = await client.query<{ bytes: string | null }>(
          'SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::text AS bytes FROM pg_stat_replication',
        );
        lagBytes = Math.max(lagBytes, Number(lag.rows[0]?.bytes ?? 0));
        await sleep(Math.max(0, next - now()));
      }
    },
    10_000,
  );
  return {
    async stop() {
      running = false;
      await done;
      return { samples, locks, lagBytes };
    },
  };
}

/** Holds a read transaction on `table` for `holdMs`: what a long report query does to a migration. */
async function holdReader(url: string, table: string, holdMs: number): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('BEGIN');
    await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
    await sleep(holdMs);
    await client.query('COMMIT');
  });
}

const shortSql = (sql: string) => {
  const line = sql.replace(/\s+/g, ' ');
  return line.length > 90 ? `${line.slice(0, 89)}…` : line;
};

/**
 * "Zero-downtime migrations", rehearsed: the team's own migration files run against the
 * seeded data while the app takes traffic (and, if configured, while a long read holds a
 * table), and each statement is judged by what the app saw and what it did to the tables.
 */
export const migrationRehearsal = defineSuite({
  name: 'migration-rehearsal',
  description:
    "the team's migrations run under live traffic: per statement, how long the app was blocked, what was rewritten or scanned under a blocking lock, lock_timeout set, no invalid index left",
  options: rehearsalOptions,
  requires: {},
  preflight(options, _topology, where) {
    // The folder is read now: a missing or empty one costs no topology.
    migrationFiles(path.resolve(where?.configDir ?? process.cwd(), options.migrations));
  },
  async run(context, options) {
    const folder = path.resolve(context.configDir ?? process.cwd(), options.migrations);
    const statements = await readMigrations(folder);
    const adminUrl = databaseUrl(context.topology.primary.adminUrl, context.database);
    const appUser = decodeURIComponent(new URL(context.topology.primary.url).username);
    if (options.longReader) {
      const [exists] = await withClient(
        adminUrl,
        async (c) => (await c.query('SELECT to_regclass($1) AS t', [options.longReader!.table])).rows,
      );
      if (!exists?.t)
        throw new UsageError(
          `invalid option suites.migration-rehearsal.longReader.table: no table ${options.longReader.table} in the app's database`,
        );
    }
    await withClient(adminUrl, async (client) => {
      for (const sql of options.prepare) await client.query(sql);
    });
    const migration = new pg.Client({ connectionString: adminUrl, application_name: 'dbproof-migration' });
    migration.on('error', () => {});
    await migration.connect();
    const migrationPid = (await migration.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const lastError = new LastError();
    const token = Date.now().toString(36);
    context.progress?.(
      `${options.write} at ${options.rate}/s; at ${options.migrationAtMs} ms: ${statements.length} statement(s) from ${path.basename(folder)}/`,
    );
    const load = await startSuiteLoad({
      url: context.app.url,
      rate: options.rate,
      durationMs: options.durationMs,
      bucketMs: 100,
      requests: [{ spec: parseRequest(options.write, options.writeBody), keyPrefix: `r-${token}-` }],
      seed: 'migration-rehearsal',
    });
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const loaded = load.start();
    // Awaited below; until then a load that fails must not be an unhandled rejection.
    loaded.catch(() => {});
    let timeline: Timeline;
    let facts: StatementFacts[] = [];
    let sampled: Awaited<ReturnType<ReturnType<typeof sampleActivity>['stop']>> | undefined;
    let migrationStart = 0;
    let migrationEnd = 0;
    let invalid: string[] = [];
    try {
      const reader = options.longReader
        ? sleep(Math.max(0, options.longReader.atMs - now())).then(() =>
            holdReader(adminUrl, options.longReader!.table, options.longReader!.holdMs),
          )
        : Promise.resolve();
      reader.catch(() => {});
      await sleep(Math.max(0, options.migrationAtMs - now()));
      const sampler = sampleActivity(adminUrl, context.database, migrationPid, now);
      migrationStart = now();
      facts = await runMigration(migration, statements, now, () => {}).finally(async () => {
        migrationEnd = now();
        sampled = await sampler.stop();
      });
      await reader;
      const result = await loaded;
      timeline = result.timeline;
      lastError.message = result.lastError;
      // Read before the cleanup, which may drop what the migration left behind.
      invalid = await withClient(adminUrl, async (client) =>
        (
          await client.query<{ name: string }>(
            'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid',
          )
        ).rows.map((r) => r.name),
      );
    } finally {
      await loaded.catch(() => {});
      await migration.end().catch(() => {});
      await withClient(adminUrl, async (client) => {
        for (const sql of options.cleanup) await client.query(sql);
      });
    }
    const { samples, locks, lagBytes } = sampled!;
    // The migration's own waits, and the locks the samples saw it hold where dbproof could not
    // read them in the statement's transaction (CREATE INDEX CONCURRENTLY and the like).
    for (const fact of facts) {
      if (!fact.read)
        for (const [t, held] of locks)
          if (t >= fact.start && t <= fact.end)
            for (const [table, mode] of held) fact.locks.set(table, stronger(fact.locks.get(table), mode));
      for (const sample of samples)
        if (sample.t >= fact.start && sample.t <= fact.end)
          for (const wait of sample.waits)
            if (wait.pid === migrationPid) fact.waitedMs = Math.max(fact.waitedMs, Math.round(wait.waitedMs));
    }
    const windows: StatementWindow[] = facts.map((f, i) => ({ index: i, start: f.start, end: f.end }));
    const blocked = blockedApp(samples, windows, new Set([migrationPid]), appUser);
    return judgeRehearsal(options, {
      facts,
      blocked,
      invalid,
      lagBytes,
      timeline: timeline!,
      migrationStart,
      migrationEnd,
      lastError,
      folder: path.basename(folder),
      samples: samples.length,
    });
  },
});

function judgeRehearsal(
  options: RehearsalOptions,
  seen: {
    facts: StatementFacts[];
    blocked: ReturnType<typeof blockedApp>;
    invalid: string[];
    lagBytes: number;
    timeline: Timeline;
    migrationStart: number;
    migrationEnd: number;
    lastError: LastError;
    folder: string;
    samples: number;
  },
) {
  const { facts, blocked, timeline, budgets } = { ...seen, budgets: options.budgets };
  const verdicts: Verdict[] = [];
  const measurements: Record<string, number | null> = {};
  const notes: string[] = [];
  let blockedMax = 0;
  for (const [i, fact] of facts.entries()) {
    const { statement } = fact;
    const scope = `${statement.file}#${statement.index}`;
    const app = blocked.get(i)!;
    blockedMax = Math.max(blockedMax, app.maxMs);
    const blocking = [...fact.locks].filter(([, mode]) => BLOCKS_WRITES.has(mode));
    const heavy = [
      ...fact.rewrote.map((r) => ({ ...r, what: 'rewrote' })),
      ...fact.scanned.map((r) => ({ ...r, what: 'scanned' })),
    ].filter((r) => r.rows > budgets.rewriteRows && blocking.some(([table]) => table === r.table));
    const sql = shortSql(statement.sql);
    notes.push(
      `${scope} ${sql}: ${Math.round(fact.end - fact.start)} ms${fact.waitedMs ? ` (${fact.waitedMs} ms waiting for its lock)` : ''}; locks ${[...fact.locks].map(([t, m]) => `${t} ${m}`).join(', ') || 'none seen'}; app blocked ${app.sessions}× (max ${app.maxMs} ms, total ${app.totalMs} ms); ${fact.rewrote.length ? `rewrote ${fact.rewrote.map((r) => r.table).join(', ')}; ` : ''}${fact.scanned.length ? `scanned ${fact.scanned.map((r) => r.table).join(', ')}; ` : ''}WAL ${fact.walBytes} B; lock_timeout ${fact.lockTimeout}, statement_timeout ${fact.statementTimeout}`,
    );
    Object.assign(measurements, {
      [`${scope}.ms`]: Math.round(fact.end - fact.start),
      [`${scope}.appBlockedMaxMs`]: app.maxMs,
      [`${scope}.appBlockedSessions`]: app.sessions,
      [`${scope}.walBytes`]: fact.walBytes,
    });
    if (statement.kind === 'VariableSetStmt' || statement.transaction !== 0) continue;
    verdicts.push(
      judge(
        `the app waits at most ${budgets.appBlockedMs} ms behind ${scope}`,
        atMost('appBlockedMs', budgets.appBlockedMs, 'ms', scope),
        app.maxMs,
        app.sessions
          ? `${app.sessions} of the app's queries waited behind it (longest ${app.maxMs} ms, total ${app.totalMs} ms)${fact.waitedMs ? `; it waited ${fact.waitedMs} ms for its own lock, and they queued behind it` : ''}: ${sql}`
          : undefined,
      ),
      judge(
        `${scope} neither rewrites nor scans a table over ${budgets.rewriteRows} rows under a lock that blocks writes`,
        atMost('rewritesUnderLock', 0, 'count', scope),
        heavy.length,
        heavy.length
          ? `${heavy.map((h) => `${h.what} ${h.table} (${Math.round(h.rows)} rows) under ${fact.locks.get(h.table)}`).join('; ')}: ${sql}`
          : undefined,
      ),
    );
    if (blocking.length)
      verdicts.push(
        judge(
          `${scope} takes its lock with a lock_timeout`,
          atMost('lockWithoutTimeout', 0, 'count', scope),
          fact.lockTimeout === '0' ? 1 : 0,
          fact.lockTimeout === '0'
            ? `takes ${blocking.map(([t, m]) => `${m} on ${t}`).join(', ')} with lock_timeout 0: behind a long query it waits for ever, and the app queues behind it (SET lock_timeout = '…' before it): ${sql}`
            : undefined,
        ),
      );
  }
  const failed = facts.find((f) => f.error);
  verdicts.push(
    judge(
      `the migrations in ${seen.folder}/ complete`,
      atMost('failedStatements', 0, 'count'),
      failed ? 1 : 0,
      failed
        ? `${failed.statement.file}#${failed.statement.index} failed: ${redact(failed.error!)}: ${shortSql(failed.statement.sql)}`
        : undefined,
    ),
    judge(
      'no index is left invalid',
      atMost('invalidIndexes', budgets.invalidIndexes, 'count'),
      seen.invalid.length,
      seen.invalid.length
        ? `invalid: ${seen.invalid.join(', ')} (a failed CREATE INDEX CONCURRENTLY leaves one; drop it and build it again)`
        : undefined,
    ),
  );
  const during = timeline.samples().filter((s) => s.t >= seen.migrationStart && s.t <= seen.migrationEnd);
  const baseline = timeline.samples().filter((s) => s.t < seen.migrationStart);
  const p99During = during.length
    ? percentileOf(
        during.map((s) => s.latencyMs),
        99,
      )
    : null;
  const errorsDuring = during.filter((s) => !s.ok).length;
  verdicts.push(
    judge(
      `the app's requests do not fail while the migration runs`,
      atMost('errorsDuringMigration', budgets.errors, 'count', options.write),
      errorsDuring,
      seen.lastError.evidence,
    ),
    judge(
      `the app's p99 while the migration runs is within ${budgets.p99Ms} ms`,
      atMost('p99DuringMigrationMs', budgets.p99Ms, 'ms', options.write),
      p99During,
    ),
    judge(
      'the replicas keep up while the migration runs',
      atMost('replicaLagBytes', budgets.replicaLagBytes, 'bytes'),
      seen.lagBytes,
    ),
  );
  if (seen.migrationEnd > options.durationMs)
    notes.push(
      `the migration outlasted the load (${Math.round(seen.migrationEnd)} ms > ${options.durationMs} ms): raise durationMs to judge every request it held up`,
    );
  notes.push(
    `pg_stat_activity and pg_locks were sampled ${seen.samples} times, every ~${SAMPLE_MS} ms: a wait shorter than that may go unseen; statements dbproof wraps in a transaction are read (locks, scans, rewrites) before they commit, which adds one round trip to how long they hold their locks`,
  );
  Object.assign(measurements, {
    statements: facts.length,
    migrationMs: Math.round(seen.migrationEnd - seen.migrationStart),
    appBlockedMaxMs: blockedMax,
    invalidIndexes: seen.invalid.length,
    replicaLagBytes: seen.lagBytes,
    errorsDuringMigration: errorsDuring,
    p99DuringMigrationMs: p99During,
    p99BeforeMigrationMs: baseline.length
      ? percentileOf(
          baseline.map((s) => s.latencyMs),
          99,
        )
      : null,
    requests: timeline.requests,
    errors: timeline.errors,
  });
  return {
    verdicts,
    measurements,
    events: [
      {
        t: Math.round(seen.migrationStart),
        kind: 'migrate',
        target: 'primary',
        durationMs: Math.round(seen.migrationEnd - seen.migrationStart),
      },
    ],
    timelines: [timelineRecord(`${options.write} at ${options.rate}/s`, timeline)],
    notes,
  };
}
