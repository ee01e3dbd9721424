import { z } from 'zod';
import { BACKUP_TOOLS } from '../../harness/topology/recovery.ts';
import { count, ms, request } from '../support/options.ts';

export const minutes = (n: number) => n * 60_000;

export const backupRestoreOptions = z
  .object({
    /** The backup tool: `pg_basebackup` (ships with Postgres) or `pgbackrest` (`apt-get install -y pgbackrest`). */
    tool: z.enum(BACKUP_TOOLS).default('pg_basebackup'),
    /** `archive_mode`: false archives nothing, and the restore has no archive to replay (a negative control). */
    archive: z.boolean().default(true),
    /** The `archive_command`; default: the tool's own into the run's archive. `/bin/true` archives nothing. */
    archiveCommand: z.string().min(1).optional(),
    /** `archive_timeout` in seconds: a written-to WAL segment is archived at least this often; 0 never. */
    archiveTimeoutS: z.number().int().min(0).max(3600).default(5),
    /** Whether the base backup holds the WAL written during it (`pg_basebackup -X stream`; false: `-X none`). */
    backupWal: z.boolean().default(true),
    /** A write the app acknowledges only once committed; `{key}` is a unique key per write. */
    write: request('POST /notes'),
    writeBody: z.unknown().default({ key: '{key}', inspectionId: 1 }),
    /**
     * Write straight to the database instead of through the app: a statement whose `$1` is the
     * key, e.g. `INSERT INTO inspection_notes (key, inspection_id, body) VALUES ($1, 1, '')`
     * (sent as the app's role through its writer endpoint; the recovery time is still the app's).
     */
    writeSql: z.string().min(1).optional(),
    /** Which of the keys a restored database holds: `$1` is the text[] of acknowledged keys; returns a column `key`. */
    checkSql: z.string().min(1).default('SELECT key FROM inspection_notes WHERE key = ANY($1::text[])'),
    writers: z.number().int().min(1).max(64).default(2),
    thinkMs: ms(20),
    /** How long the writers run after the base backup, until the disaster. */
    durationMs: ms(20_000),
    /** The point-in-time target, this long after the writers started; default: half of `durationMs`. */
    pitrAtMs: z.number().int().min(1).optional(),
    /** Requests the app must answer 2xx once it runs on the restored node. */
    smoke: z.array(z.string().min(1)).default(['GET /inspections/1', 'GET /dashboard']),
    /** How long a restore may take before it counts as failed. */
    restoreTimeoutMs: z.number().int().min(1000).max(minutes(120)).default(minutes(20)),
    budgets: z
      .object({
        /** Recovery point: the age at the disaster of the oldest acknowledged write missing; default `archiveTimeoutS` + 10 s. */
        rpoMs: z.number().int().min(0).optional(),
        /** Recovery time: from the restore's start to the app's first successful request on the restored node. */
        rtoMs: z.number().int().min(0).default(minutes(15)),
        /** Writes wrongly present or missing after the point-in-time restore. */
        pitrMismatches: count(0),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.pitrAtMs !== undefined && o.pitrAtMs >= o.durationMs)
      ctx.addIssue({
        code: 'custom',
        path: ['pitrAtMs'],
        message: `the point-in-time target must fall inside the writes (0 < pitrAtMs < durationMs = ${o.durationMs})`,
      });
    if (o.tool === 'pgbackrest' && (!o.archive || !o.backupWal))
      ctx.addIssue({
        code: 'custom',
        path: [o.archive ? 'backupWal' : 'archive'],
        message:
          "pgBackRest's backups always come with their WAL from its archive: use tool 'pg_basebackup' for this control",
      });
  });

export type BackupRestoreOptions = z.output<typeof backupRestoreOptions>;
