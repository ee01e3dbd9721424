import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { z } from 'zod';
import { atMost, type Budget, judge, type Verdict } from '../../harness/budgets/index.ts';
import { parseBudgets } from '../../harness/budgets/traffic.ts';
import { UsageError } from '../../harness/errors.ts';
import { packageFile } from '../../harness/package-files.ts';
import { databaseUrl, withClient } from '../../harness/pg/client.ts';
import { redact } from '../../harness/redact.ts';
import { defineSuite, parseRequest, type SuiteContext, timelineRecord } from '../../harness/suite/index.ts';
import { type SuiteLoadRequest, startSuiteLoad } from '../../load/engines/suite-load.ts';
import type { Timeline } from '../../load/timeline.ts';
import { percentileOf } from '../support/percentile.ts';
import { count, ms, rate, request } from '../support/options.ts';
import { MIGRATION_APP, type MigrationSighting, SAMPLE_MS, type Sampled, sampleActivity } from './activity-sampler.ts';
import { checkMigrationCommand, runMigrationCommand } from './command.ts';
import { blockedApp, type StatementWindow } from './lock-waits.ts';
import { readMigrations } from './sql-files.ts';
import { BLOCKS_WRITES, runMigration, type StatementFacts, stronger, tables } from './statement-facts.ts';

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/i, 'a table name, e.g. orders or app.orders');

/** The reference app's migrations that keep every promise (example/migrations/safe). */
const REFERENCE_MIGRATIONS = packageFile('example/migrations/safe');

export const rehearsalOptions = z
  .object({
    /**
     * The folder of `.sql` migrations, run in file-name order, statement by statement (relative
     * to the config); with neither this nor `command`, the reference app's safe migrations.
     */
    migrations: z.string().min(1).optional(),
    /**
     * Or the team's own migration command (`npm run migrate`, `prisma migrate deploy`, …), run
     * in the config's folder with the primary in DATABASE_URL (the app's role) and PGAPPNAME
     * set: its statements are seen by sampling (those shorter than ~20 ms may go unseen).
     */
    command: z.string().min(1).optional(),
    /** The command is ended after this long, and the rehearsal fails. */
    commandTimeoutMs: ms(300_000),
    /**
     * The variables the command reads the database URL from (each set to the rehearsal's
     * database; libpq's PG* variables are set to it whatever this says), e.g. ['DATABASE_URL', 'PG_URL'].
     */
    urlVariables: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'))
      .min(1)
      .default(['DATABASE_URL']),
    /** The app's traffic meanwhile: this request at `rate` per second (open model), `{key}` a new key each time. */
    /**
     * The app's traffic while the migration runs: `write` (the write below at `rate`), or
     * `scenarios` (the config's load scenarios, each at its rate or connections, judged on
     * its own budgets while the migration runs); `auto`: the scenarios when the config has
     * any run by dbproof's engines, else the write.
     */
    traffic: z.enum(['auto', 'write', 'scenarios']).default('auto'),
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
  .strict()
  .refine((o) => !o.longReader || o.longReader.atMs < o.migrationAtMs, {
    message: 'longReader.atMs must come before migrationAtMs: the read must hold its lock when the migration starts',
    path: ['longReader', 'atMs'],
  })
  // A migration that starts after the load has ended has no request to hold up: its traffic
  // verdicts would judge nothing.
  .refine((o) => o.migrationAtMs < o.durationMs, {
    message: 'migrationAtMs must come before durationMs ends: the load must be running when the migration starts',
    path: ['migrationAtMs'],
  })
  .refine((o) => o.migrations === undefined || o.command === undefined, {
    message: "give migrations (a folder of .sql files) or command (your migration tool's), not both",
    path: ['migrations'],
  })
  // Neither: the reference app's safe migrations, as every suite's options default to the reference app.
  .transform((o) => (o.migrations || o.command ? o : { ...o, migrations: REFERENCE_MIGRATIONS }));

export type RehearsalOptions = z.output<typeof rehearsalOptions>;

/**
 * Holds a read transaction on `table` (a name as regclass prints it, quoted where it must be)
 * from `atMs` for `holdMs`: what a long report query does to a migration. `holding` resolves
 * once it has its lock.
 */
function holdReader(
  url: string,
  table: string,
  atMs: number,
  holdMs: number,
  now: () => number,
): { holding: Promise<void>; done: Promise<void> } {
  let held!: () => void;
  let failed!: (error: unknown) => void;
  const holding = new Promise<void>((resolve, reject) => {
    held = resolve;
    failed = reject;
  });
  const done = (async () => {
    await sleep(Math.max(0, atMs - now()));
    await withClient(url, async (client) => {
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${table} IN ACCESS SHARE MODE`);
      held();
      await sleep(holdMs);
      await client.query('COMMIT');
    });
  })();
  done.catch(failed);
  holding.catch(() => {});
  return { holding, done };
}

/** The table a name means, exactly as written (case kept, `schema.table` or on the search path), as regclass prints it; a UsageError when none. */
async function tableNamed(url: string, name: string): Promise<string> {
  const [schema, table] = name.includes('.') ? name.split('.', 2) : [null, name];
  const rows = await withClient(
    url,
    async (client) =>
      (
        await client.query<{ name: string }>(
          `SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'm') AND c.relname = $1
            AND (CASE WHEN $2::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = $2 END)`,
          [table, schema],
        )
      ).rows,
  );
  if (!rows[0])
    throw new UsageError(
      `invalid option suites.migration-rehearsal.longReader.table: no table ${name} in the app's database (names are matched exactly, case included)`,
    );
  return rows[0].name;
}

/** The indexes Postgres marks invalid (a failed CREATE INDEX CONCURRENTLY leaves one). */
async function invalidIndexes(url: string): Promise<string[]> {
  return withClient(url, async (client) =>
    (
      await client.query<{ name: string }>(
        'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid',
      )
    ).rows.map((r) => r.name),
  );
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
  async preflight(options, _topology, where) {
    // The folder is read and its SQL parsed now, the command looked up: a mistake costs no topology.
    const configDir = where?.configDir ?? process.cwd();
    if (options.migrations) await readMigrations(path.resolve(configDir, options.migrations));
    if (options.command) checkMigrationCommand(options.command, configDir);
  },
  async run(context, options) {
    const configDir = context.configDir ?? process.cwd();
    const folder = options.migrations ? path.resolve(configDir, options.migrations) : undefined;
    const statements = folder ? await readMigrations(folder) : [];
    const adminUrl = databaseUrl(context.topology.primary.adminUrl, context.database);
    const appUser = decodeURIComponent(new URL(context.topology.primary.url).username);
    // Everything the options name is checked before the database is touched.
    const traffic = trafficOf(options, context.scenarios);
    const readerTable = options.longReader ? await tableNamed(adminUrl, options.longReader.table) : undefined;
    const what = folder ? `${statements.length} statement(s) from ${path.basename(folder)}/` : `\`${options.command}\``;
    let loaded: Promise<{ timeline: Timeline; lastError: string }[]> | undefined;
    let rehearsed: Rehearsed | undefined;
    let timelines: { timeline: Timeline; lastError: string }[] = [];
    let invalid: string[] = [];
    let conflicts = 0;
    try {
      await withClient(adminUrl, async (client) => {
        for (const sql of options.prepare) await client.query(sql);
      });
      const invalidBefore = new Set(await invalidIndexes(adminUrl));
      const conflictsBefore = await standbyConflicts(context);
      context.progress?.(`${traffic.map((t) => t.label).join(', ')}; at ${options.migrationAtMs} ms: ${what}`);
      const loads = await Promise.all(
        traffic.map((t) =>
          startSuiteLoad({ ...t.load, url: context.app.url, durationMs: options.durationMs, bucketMs: 100 }),
        ),
      );
      const t0 = performance.now();
      const now = () => performance.now() - t0;
      loaded = Promise.all(loads.map((load) => load.start()));
      // Awaited below; until then a load that fails must not be an unhandled rejection.
      loaded.catch(() => {});
      const reader = readerTable
        ? holdReader(adminUrl, readerTable, options.longReader!.atMs, options.longReader!.holdMs, now)
        : undefined;
      await sleep(Math.max(0, options.migrationAtMs - now()));
      // The hazard is the migration arriving while the read holds its lock: never the other way round.
      await reader?.holding;
      rehearsed = folder
        ? await rehearseFolder(adminUrl, context, statements, now)
        : await rehearseCommand(adminUrl, context, options, configDir, now);
      await reader?.done;
      timelines = await loaded;
      conflicts = (await standbyConflicts(context)) - conflictsBefore;
      // Read before the cleanup, which may drop what the migration left behind; only those it left.
      invalid = (await invalidIndexes(adminUrl)).filter((name) => !invalidBefore.has(name));
    } finally {
      await loaded?.catch(() => {});
      await withClient(adminUrl, async (client) => {
        for (const sql of options.cleanup) await client.query(sql);
      });
    }
    const { facts, sampled, start, end, unseen } = rehearsed!;
    // The migration's own waits, and the locks the samples saw it hold where dbproof could not
    // read them in the statement's transaction (CREATE INDEX CONCURRENTLY and the like).
    for (const fact of facts) {
      for (const sighting of sampled.sightings)
        if (sighting.t >= fact.start && sighting.t <= fact.end && fact.pids.has(sighting.pid)) {
          if (!fact.read)
            for (const [table, mode] of sighting.locks) fact.locks.set(table, stronger(fact.locks.get(table), mode));
          fact.waitedMs = Math.max(fact.waitedMs, Math.round(sighting.waitingMs));
          if (sighting.progress && fact.progress?.at(-1) !== sighting.progress)
            fact.progress = [...(fact.progress ?? []), sighting.progress];
        }
    }
    // The replicas' worst lag while each statement ran (and the sample after it: WAL it wrote is replayed after it ends).
    for (const fact of facts)
      fact.replicaLagBytes = Math.max(
        0,
        ...sampled.lags.filter(([t]) => t >= fact.start && t <= fact.end + SAMPLE_MS).map(([, bytes]) => bytes),
      );
    const windows: StatementWindow[] = facts.map((f, i) => ({ index: i, start: f.start, end: f.end }));
    const migrationPids = new Set(sampled.sightings.map((s) => s.pid));
    for (const fact of facts) for (const pid of fact.pids) migrationPids.add(pid);
    const blocked = blockedApp(sampled.samples, windows, migrationPids, appUser);
    return judgeRehearsal(options, {
      facts,
      blocked,
      invalid,
      lagBytes: sampled.lagBytes,
      notStreaming: [...sampled.notStreaming],
      conflicts,
      traffic: traffic.map((t, i) => ({ ...t, ...timelines[i]! })),
      migrationStart: start,
      migrationEnd: end,
      what: folder ? `the migrations in ${path.basename(folder)}/` : `\`${options.command}\``,
      samples: sampled.samples.length,
      commandMode: !folder,
      unseen: unseen ?? false,
    });
  },
});

/** Queries cancelled on the standbys so far for conflicting with recovery (a migration's locks and vacuum replayed there), summed. */
async function standbyConflicts(context: SuiteContext): Promise<number> {
  let total = 0;
  for (const replica of context.topology.replicas) {
    const rows = await withClient(
      databaseUrl(replica.adminUrl, context.database),
      async (client) =>
        (
          await client.query<{ n: string }>(
            `SELECT (confl_tablespace + confl_lock + confl_snapshot + confl_bufferpin + confl_deadlock)::text AS n
             FROM pg_stat_database_conflicts WHERE datname = current_database()`,
          )
        ).rows,
    ).catch(() => []);
    total += Number(rows[0]?.n ?? 0);
  }
  return total;
}

/** What a rehearsal saw: each statement's facts, the samples, and when the migration ran. */
interface Rehearsed {
  facts: (StatementFacts & { pids: Set<number> })[];
  sampled: Sampled;
  start: number;
  end: number;
  /** A command none of whose sessions was ever seen: what it did cannot be attributed. */
  unseen?: boolean;
}

/** A folder of .sql files, run by dbproof statement by statement on a connection of its own. */
async function rehearseFolder(
  adminUrl: string,
  context: SuiteContext,
  statements: Awaited<ReturnType<typeof readMigrations>>,
  now: () => number,
): Promise<Rehearsed> {
  const migration = new pg.Client({ connectionString: adminUrl, application_name: MIGRATION_APP });
  migration.on('error', () => {});
  await migration.connect();
  try {
    const pid = (await migration.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const sampler = sampleActivity(
      adminUrl,
      context.database,
      now,
      context.topology.replicas.map((r) => r.name),
    );
    const start = now();
    let facts: StatementFacts[] = [];
    let end = start;
    let sampled: Sampled;
    try {
      facts = await runMigration(migration, statements, now, () => {});
    } finally {
      end = now();
      sampled = await sampler.stop();
    }
    return { facts: facts.map((f) => ({ ...f, pids: new Set([pid]) })), sampled, start, end };
  } finally {
    await migration.end().catch(() => {});
  }
}

/**
 * The team's own migration command. Its statements are what the samples saw its sessions run
 * (a statement per session and query start); what it rewrote is read by comparing every
 * table's file before and after it, and reported as the command's.
 */
async function rehearseCommand(
  adminUrl: string,
  context: SuiteContext,
  options: RehearsalOptions,
  configDir: string,
  now: () => number,
): Promise<Rehearsed> {
  const before = await withClient(adminUrl, tables);
  const sampler = sampleActivity(
    adminUrl,
    context.database,
    now,
    context.topology.replicas.map((r) => r.name),
  );
  const start = now();
  let end = start;
  let sampled: Sampled;
  let outcome: Awaited<ReturnType<typeof runMigrationCommand>>;
  try {
    outcome = await runMigrationCommand(options.command!, {
      cwd: configDir,
      databaseUrl: databaseUrl(context.topology.primary.url, context.database),
      urlVariables: options.urlVariables,
      timeoutMs: options.commandTimeoutMs,
    });
  } finally {
    end = now();
    sampled = await sampler.stop();
  }
  const after = await withClient(adminUrl, tables);
  const facts = factsOfSightings(sampled.sightings);
  const rewrote = [...after]
    .filter(([table, file]) => before.has(table) && before.get(table)!.filenode !== file.filenode)
    .map(([table]) => ({ table, rows: before.get(table)!.rows }));
  // The command as a whole: where it failed, and what it rewrote (a rewrite is made under ACCESS EXCLUSIVE).
  facts.push({
    statement: { file: 'command', index: 0, sql: options.command!, kind: 'Command', wrappable: false, transaction: 0 },
    start,
    end,
    lockTimeout: '',
    statementTimeout: '',
    locks: new Map(rewrote.map((r) => [r.table, 'AccessExclusiveLock'])),
    rewrote,
    scanned: [],
    walBytes: 0,
    waitedMs: 0,
    read: true,
    pids: new Set(),
    ...(outcome.code === 0
      ? {}
      : {
          error: outcome.timedOut
            ? `it was still running after ${options.commandTimeoutMs} ms and was ended; its last output: ${outcome.output}`
            : `it exited with code ${outcome.code}; its last output: ${outcome.output}`,
        }),
  });
  return { facts, sampled, start, end, unseen: sampled.sightings.length === 0 };
}

/** The statements a command's sessions were seen running: one per session and query start, in the order first seen. */
function factsOfSightings(sightings: MigrationSighting[]): (StatementFacts & { pids: Set<number> })[] {
  const byStatement = new Map<string, MigrationSighting[]>();
  for (const sighting of sightings) {
    const key = `${sighting.pid}@${sighting.queryStart}`;
    byStatement.set(key, [...(byStatement.get(key) ?? []), sighting]);
  }
  return [...byStatement.values()].map((seen, i) => ({
    statement: { file: 'command', index: i + 1, sql: seen[0]!.query, kind: 'Seen', wrappable: false, transaction: 0 },
    start: seen[0]!.t,
    end: seen.at(-1)!.t,
    lockTimeout: '',
    statementTimeout: '',
    locks: new Map(),
    rewrote: [],
    scanned: [],
    walBytes: 0,
    waitedMs: 0,
    read: false,
    pids: new Set([seen[0]!.pid]),
  }));
}

function judgeRehearsal(
  options: RehearsalOptions,
  seen: {
    facts: StatementFacts[];
    blocked: ReturnType<typeof blockedApp>;
    invalid: string[];
    lagBytes: number;
    /** Replicas seen not streaming while it ran. */
    notStreaming: string[];
    /** Queries the standbys cancelled for conflicting with recovery meanwhile. */
    conflicts: number;
    /** Each load that ran meanwhile, with the budgets it is judged on (none: the suite's own errors and p99). */
    traffic: (Traffic & { timeline: Timeline; lastError: string })[];
    migrationStart: number;
    migrationEnd: number;
    /** `the migrations in safe/` or the command in backquotes. */
    what: string;
    samples: number;
    /** A command's statements were sampled: their lock_timeout cannot be read from another session. */
    commandMode: boolean;
    unseen: boolean;
  },
) {
  const { facts, blocked, budgets } = { ...seen, budgets: options.budgets };
  const verdicts: Verdict[] = [];
  const measurements: Record<string, number | null> = {};
  const notes: string[] = [];
  let blockedMax = 0;
  for (const [i, fact] of facts.entries()) {
    const { statement } = fact;
    const scope = statement.index === 0 ? statement.file : `${statement.file}#${statement.index}`;
    const app = blocked.get(i)!;
    blockedMax = Math.max(blockedMax, app.maxMs);
    const blocking = [...fact.locks].filter(([, mode]) => BLOCKS_WRITES.has(mode));
    const heavy = [
      ...fact.rewrote.map((r) => ({ ...r, what: 'rewrote' })),
      ...fact.scanned.map((r) => ({ ...r, what: 'scanned' })),
    ].filter((r) => r.rows > budgets.rewriteRows && blocking.some(([table]) => table === r.table));
    const sql = shortSql(statement.sql);
    notes.push(
      `${scope} ${sql}: ${Math.round(fact.end - fact.start)} ms${fact.waitedMs ? ` (${fact.waitedMs} ms waiting for its lock)` : ''}; locks ${[...fact.locks].map(([t, m]) => `${t} ${m}`).join(', ') || 'none seen'}; app blocked ${app.sessions}× (max ${app.maxMs} ms, total ${app.totalMs} ms); ${fact.rewrote.length ? `rewrote ${fact.rewrote.map((r) => r.table).join(', ')}; ` : ''}${fact.scanned.length ? `scanned ${fact.scanned.map((r) => r.table).join(', ')}; ` : ''}${fact.progress ? `progress ${fact.progress.join(' → ')}; ` : ''}WAL ${fact.walBytes} B (replicas up to ${fact.replicaLagBytes ?? 0} B behind); lock_timeout ${fact.lockTimeout}, statement_timeout ${fact.statementTimeout}`,
    );
    Object.assign(measurements, {
      [`${scope}.ms`]: Math.round(fact.end - fact.start),
      [`${scope}.appBlockedMaxMs`]: app.maxMs,
      [`${scope}.appBlockedSessions`]: app.sessions,
      [`${scope}.walBytes`]: fact.walBytes,
      [`${scope}.replicaLagBytes`]: fact.replicaLagBytes ?? 0,
      // From the moment it had its lock until it committed: its run less its wait (a statement dbproof wraps commits as it ends).
      [`${scope}.lockHeldMs`]: Math.max(0, Math.round(fact.end - fact.start - fact.waitedMs)),
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
    if (blocking.length && fact.lockTimeout !== '')
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
      `${seen.what} ${seen.commandMode ? 'completes' : 'complete'}`,
      atMost('failedStatements', 0, 'count'),
      failed ? 1 : 0,
      failed
        ? `${failed.statement.index === 0 ? failed.statement.file : `${failed.statement.file}#${failed.statement.index}`} failed: ${redact(failed.error!)}: ${shortSql(failed.statement.sql)}`
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
  if (seen.commandMode)
    verdicts.push(
      judge(
        `the command's sessions are seen migrating the rehearsal's database`,
        atMost('commandUnseen', 0, 'count'),
        seen.unseen ? 1 : 0,
        seen.unseen
          ? `no session with application_name ${MIGRATION_APP} was ever seen: the app's waits behind the command cannot be attributed, and it may have migrated another database; make the tool use DATABASE_URL (or the urlVariables option) and application_name from it or from PGAPPNAME, or give its .sql files with migrations:`
          : undefined,
      ),
    );
  const impact = seen.traffic.map((t) => judgeTraffic(t, seen, budgets));
  verdicts.push(...impact.flatMap((i) => i.verdicts));
  verdicts.push(
    judge(
      'the replicas keep up while the migration runs',
      atMost('replicaLagBytes', budgets.replicaLagBytes, 'bytes'),
      // A replica that stopped streaming is behind by an unknown amount: never within budget.
      seen.notStreaming.length ? null : seen.lagBytes,
      seen.notStreaming.length
        ? `${seen.notStreaming.join(', ')} stopped streaming while the migration ran (not in pg_stat_replication): how far behind is unknown`
        : seen.lagBytes > 0
          ? `the furthest replica was ${seen.lagBytes} B of WAL behind`
          : undefined,
    ),
  );
  if (seen.migrationEnd > options.durationMs)
    notes.push(
      `the migration outlasted the load (${Math.round(seen.migrationEnd)} ms > ${options.durationMs} ms): raise durationMs to judge every request it held up`,
    );
  notes.push(
    seen.commandMode
      ? `pg_stat_activity and pg_locks were sampled ${seen.samples} times, every ~${SAMPLE_MS} ms: the command's statements are those its sessions (PGAPPNAME ${MIGRATION_APP}) were seen running, a statement shorter than that may go unseen; its rewrites are read from every table's file before and after it; its scans and its lock_timeout cannot be read from outside its sessions and are not judged (run the migration's .sql files with migrations: to judge them)`
      : `pg_stat_activity and pg_locks were sampled ${seen.samples} times, every ~${SAMPLE_MS} ms: a wait shorter than that may go unseen; statements dbproof wraps in a transaction are read (locks, scans, rewrites) before they commit, which adds one round trip to how long they hold their locks`,
  );
  Object.assign(measurements, {
    statements: facts.length,
    migrationMs: Math.round(seen.migrationEnd - seen.migrationStart),
    appBlockedMaxMs: blockedMax,
    invalidIndexes: seen.invalid.length,
    replicaLagBytes: seen.lagBytes,
    standbyConflicts: seen.conflicts,
    errorsDuringMigration: impact.reduce((sum, i) => sum + i.errorsDuring, 0),
    ...Object.fromEntries(
      impact.flatMap((i, n) => {
        // The first load's figures unprefixed (the write, as before), the others under their scenario's name.
        const prefix = n === 0 ? '' : `${seen.traffic[n]!.name}.`;
        return [
          [`${prefix}p99DuringMigrationMs`, i.p99During],
          [`${prefix}p99BeforeMigrationMs`, i.p99Before],
        ];
      }),
    ),
    requests: seen.traffic.reduce((sum, t) => sum + t.timeline.requests, 0),
    errors: seen.traffic.reduce((sum, t) => sum + t.timeline.errors, 0),
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
    timelines: seen.traffic.map((t) => timelineRecord(t.label, t.timeline)),
    notes,
  };
}

/** A load that runs while the migration does: what it sends, and what it is judged on. */
interface Traffic {
  name: string;
  label: string;
  load: Omit<SuiteLoadRequest, 'url' | 'durationMs'>;
  /** The scenario's budgets; none: the suite's own (errors, p99Ms). */
  budgets?: Budget[];
}

/** The traffic option made concrete: the write at its rate, or each of the config's scenarios that dbproof's engines run. */
function trafficOf(options: RehearsalOptions, scenarios: SuiteContext['scenarios']): Traffic[] {
  const usable = Object.entries(scenarios ?? {}).filter(([, s]) => s.engine === 'dbproof');
  if (options.traffic === 'scenarios' && usable.length === 0)
    throw new UsageError(
      "invalid option suites.migration-rehearsal.traffic: 'scenarios', but the config has no load scenario run by dbproof's engines; add scenarios: { … } or set traffic: 'write'",
    );
  if (options.traffic === 'write' || (options.traffic === 'auto' && usable.length === 0))
    return [
      {
        name: 'write',
        label: `${options.write} at ${options.rate}/s`,
        load: {
          rate: options.rate,
          requests: [
            { spec: parseRequest(options.write, options.writeBody), keyPrefix: `r-${Date.now().toString(36)}-` },
          ],
          seed: 'migration-rehearsal',
        },
      },
    ];
  return usable.map(([name, scenario]) => {
    const entries = scenario.mix ?? [{ request: scenario.request!, weight: 1 }];
    const model = scenario.rate ? { rate: scenario.rate } : { connections: scenario.connections ?? 10 };
    return {
      name,
      label: `scenario ${name} (${scenario.rate ? `${scenario.rate}/s` : `${model.connections} connections`})`,
      load: {
        ...model,
        timeoutMs: scenario.timeoutMs,
        requests: entries.map((e) => ({
          spec: parseRequest(e.request),
          weight: e.weight,
          ...(scenario.ids ? { ids: scenario.ids } : {}),
        })),
        seed: `migration-rehearsal ${name}`,
      },
      // Throughput is the scenario's own run's to judge: a rehearsal's share of it says nothing.
      budgets: parseBudgets(scenario.budgets || 'errors=0', `scenario ${name}`).filter((b) => b.metric !== 'rps'),
    };
  });
}

/** A latency or error figure of the requests due while the migration ran, by a budget's metric. */
function figure(metric: string, latencies: number[], errors: number): number | null {
  if (metric === 'errors') return errors;
  if (metric === 'errorRate') return latencies.length ? errors / latencies.length : null;
  if (latencies.length === 0) return null;
  if (metric === 'maxMs') return Math.max(...latencies);
  if (metric === 'meanMs') return latencies.reduce((a, b) => a + b, 0) / latencies.length;
  const p = /^p([\d.]+)Ms$/.exec(metric);
  return p ? percentileOf(latencies, Number(p[1])) : null;
}

/** One load's verdicts on the requests due while the migration ran, and its p99 before and during. */
function judgeTraffic(
  traffic: Traffic & { timeline: Timeline; lastError: string },
  seen: { migrationStart: number; migrationEnd: number },
  budgets: RehearsalOptions['budgets'],
): { verdicts: Verdict[]; errorsDuring: number; p99During: number | null; p99Before: number | null } {
  const samples = traffic.timeline.samples();
  // A request counts when it was in flight while the migration ran (due before its end,
  // answered after its start), not only when it fell due inside it: a migration of a few
  // milliseconds still holds up the requests it overlaps.
  const during = samples.filter((s) => s.t <= seen.migrationEnd && s.t + s.latencyMs >= seen.migrationStart);
  const before = samples.filter((s) => s.t + s.latencyMs < seen.migrationStart);
  const latencies = during.map((s) => s.latencyMs);
  const errorsDuring = during.filter((s) => !s.ok).length;
  const p99During = latencies.length ? percentileOf(latencies, 99) : null;
  const p99Before = before.length
    ? percentileOf(
        before.map((s) => s.latencyMs),
        99,
      )
    : null;
  const evidence = traffic.lastError ? `last error: ${redact(traffic.lastError)}` : undefined;
  // No request overlapped the migration (one shorter than the gap between requests): its
  // latency is not judged on nothing; its errors (none) are.
  const judged = (metric: string) => latencies.length > 0 || metric.startsWith('error');
  const verdicts = traffic.budgets
    ? traffic.budgets
        .filter((budget) => judged(budget.metric))
        .map((budget) =>
          judge(
            `scenario ${traffic.name} keeps its ${budget.metric} budget while the migration runs`,
            budget,
            figure(budget.metric, latencies, errorsDuring),
            budget.metric.startsWith('error') ? evidence : `p99 before the migration: ${p99Before ?? '–'} ms`,
          ),
        )
    : [
        judge(
          `the app's requests do not fail while the migration runs`,
          atMost('errorsDuringMigration', budgets.errors, 'count', traffic.label.split(' at ')[0]),
          errorsDuring,
          evidence,
        ),
        ...(judged('p99')
          ? [
              judge(
                `the app's p99 while the migration runs is within ${budgets.p99Ms} ms`,
                atMost('p99DuringMigrationMs', budgets.p99Ms, 'ms', traffic.label.split(' at ')[0]),
                p99During,
                `p99 before the migration: ${p99Before ?? '–'} ms`,
              ),
            ]
          : []),
      ];
  return { verdicts, errorsDuring, p99During, p99Before };
}
