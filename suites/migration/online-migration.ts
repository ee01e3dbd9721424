import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { withClient } from '../../harness/pg/client.ts';
import { defineSuite, LastError, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { startSuiteLoad } from '../../load/engines/suite-load.ts';
import type { Timeline } from '../../load/timeline.ts';
import { percentileOf } from '../support/percentile.ts';
import { count, ms, rate, request } from '../support/options.ts';

/** Grows the reference app's notes to 100,000 rows (once per database): a table a migration's lock or scan matters on. */
export const GROW_NOTES = [
  `INSERT INTO inspection_notes (key, inspection_id, body)
     SELECT 'seed-' || g, 1 + g % 50,
            'inspection note ' || g || ': ' || left(md5(g::text), 8) || ' ' || left(md5((g * 7)::text), 8) || ' checked ' || left(md5((g * 13)::text), 6)
       FROM generate_series(1, 100000) g
      WHERE NOT EXISTS (SELECT 1 FROM inspection_notes WHERE key = 'seed-1')`,
  'ANALYZE inspection_notes',
];

/**
 * "Zero-downtime migrations": a schema change runs on the primary while the app takes
 * writes to the same table. Writes due while it runs must stay within their p99 budget
 * and not fail. `CREATE INDEX CONCURRENTLY` keeps that promise; a plain `CREATE INDEX`
 * holds a lock that blocks every write until the index is built (the negative control).
 */
export const onlineMigration = defineSuite({
  name: 'online-migration',
  description: 'a migration runs under write load: writes keep their p99 budget and do not fail',
  options: z
    .object({
      write: request('POST /notes'),
      writeBody: z.unknown().default({ key: '{key}', inspectionId: 1, body: 'note {key}' }),
      rate: rate(50),
      /** Longer than the migration: every write it could hold up is judged. */
      durationMs: ms(8000),
      migrationAtMs: ms(1000),
      /** Run before the load (as a superuser, in the app's database): e.g. grow the table so the migration takes long enough to matter. */
      prepare: z.array(z.string().min(1)).default(GROW_NOTES),
      /**
       * The migration, one statement (CREATE INDEX CONCURRENTLY cannot run in a transaction
       * block). The default adds full-text search to the notes: a GIN index that takes seconds
       * to build here while writing little WAL (a wide B-tree writes ~6× more, and two
       * replicas replaying it on a 2-core machine stall every write for reasons that have
       * nothing to do with locks).
       */
      statement: z
        .string()
        .min(1)
        .default(
          "CREATE INDEX CONCURRENTLY inspection_notes_search_idx ON inspection_notes USING gin (to_tsvector('simple', body))",
        ),
      /**
       * Session settings for the migration, as a careful deploy script sets them: by default
       * no parallel workers for the index build (three busy processes on a small primary
       * starve the very writes the migration must not hurt).
       */
      settings: z
        .record(z.string().regex(/^[a-z_][a-z0-9_.]*$/i, 'a setting name'), z.union([z.string(), z.number()]))
        .default({ max_parallel_maintenance_workers: 0 }),
      /** Run after the load, so the suite can run again. */
      cleanup: z.array(z.string().min(1)).default(['DROP INDEX IF EXISTS inspection_notes_search_idx']),
      budgets: z
        .object({ writeP99Ms: ms(500), errors: count(0) })
        .strict()
        .prefault({}),
    })
    .strict()
    // A migration that starts after the writes have ended holds none up: nothing to judge.
    .refine((o) => o.migrationAtMs < o.durationMs, {
      message: 'migrationAtMs must come before durationMs ends: the writes must be running when the migration starts',
      path: ['migrationAtMs'],
    }),
  requires: {},
  async run(context, options) {
    const adminUrl = Object.assign(new URL(context.topology.primary.adminUrl), {
      pathname: `/${context.database}`,
    }).toString();
    const admin = (statements: string[]) =>
      withClient(
        adminUrl,
        async (client) => {
          for (const sql of statements) await client.query(sql);
        },
        10_000,
      );
    await admin(options.prepare);
    const write = parseRequest(options.write, options.writeBody);
    const lastError = new LastError();
    const token = Date.now().toString(36);
    context.progress?.(`${options.write} at ${options.rate}/s; at ${options.migrationAtMs} ms: ${options.statement}`);
    const settings = Object.entries(options.settings).map(
      ([name, value]) => `SET ${name} = ${typeof value === 'number' ? value : `'${value.replaceAll("'", "''")}'`}`,
    );
    const load = await startSuiteLoad({
      url: context.app.url,
      rate: options.rate,
      durationMs: options.durationMs,
      bucketMs: 100,
      requests: [{ spec: write, keyPrefix: `m-${token}-` }],
      seed: 'online-migration',
    });
    const schedule = runSchedule([
      {
        at: options.migrationAtMs,
        kind: 'migrate',
        target: 'primary',
        apply: () => admin([...settings, options.statement]),
      },
    ]);
    let timeline: Timeline;
    try {
      const result = await load.start();
      timeline = result.timeline;
      lastError.message = result.lastError;
    } finally {
      await schedule.done;
      await admin(options.cleanup);
    }
    const events = await schedule.done;
    const migration = events[0]!;
    if (migration.error) throw new Error(`the migration failed: ${migration.error}`);
    const during = timeline.samples().filter((s) => s.t >= migration.t && s.t <= migration.t + migration.durationMs);
    const writeP99Ms = during.length
      ? percentileOf(
          during.map((s) => s.latencyMs),
          99,
        )
      : null;
    const errorsDuring = during.filter((s) => !s.ok).length;
    const notes = [
      `writes due while the migration ran (${during.length} of them, ${Math.round(migration.durationMs)} ms) are judged; the statement ran as a superuser on ${context.topology.primary.name}`,
    ];
    if (migration.t + migration.durationMs > options.durationMs)
      notes.push(
        `the migration outlasted the load (${Math.round(migration.t + migration.durationMs)} ms > ${options.durationMs} ms): raise durationMs to judge every write it held up`,
      );
    return {
      verdicts: [
        judge(
          'writes keep their p99 while the migration runs',
          atMost('writeP99Ms', options.budgets.writeP99Ms, 'ms', options.write),
          writeP99Ms,
          `migration: ${options.statement}`,
        ),
        judge(
          'no write fails while the migration runs',
          atMost('errorsDuringMigration', options.budgets.errors, 'count', options.write),
          errorsDuring,
          lastError.evidence,
        ),
      ],
      measurements: {
        migrationMs: migration.durationMs,
        writesDuringMigration: during.length,
        writeP99Ms,
        errorsDuringMigration: errorsDuring,
        errors: timeline.errors,
        p99Ms: timeline.percentile(99),
      },
      events,
      timelines: [timelineRecord(`${options.write} at ${options.rate}/s`, timeline)],
      notes,
    };
  },
});
