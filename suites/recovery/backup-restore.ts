import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import type { FaultEvent } from '../../harness/faults/index.ts';
import { databaseUrl } from '../../harness/pg/client.ts';
import { findPgBackRest } from '../../harness/providers/native/binaries.ts';
import { UsageError } from '../../harness/errors.ts';
import { defineSuite, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { BACKUP_TOOLS, RecoveryFailed, type BaseBackup } from '../../harness/topology/recovery.ts';
import { Timeline } from '../../load/timeline.ts';
import { epochNow, keysPresent, lostEvidence, runAcknowledgedWriters } from '../support/acknowledged-writes.ts';
import { count, ms, request } from '../support/options.ts';
import { pitrCheck, recoveryPoint } from './recovery-point.ts';
import { restoreAndServe, waitForApp } from './restore-steps.ts';

const minutes = (n: number) => n * 60_000;

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

/**
 * A disaster drill: WAL archived, a base backup taken with a real tool (and verified by
 * it), writers recording every write the app acknowledged, then the primary SIGKILLed and
 * its data directory deleted. A fresh node is restored to the latest state (the app pointed
 * at it: the recovery time) and checked write by write (the recovery point); a second one
 * to a point in the middle of the writes, checked for exactness.
 */
export const backupRestore = defineSuite({
  name: 'backup-restore',
  description:
    'a base backup and the WAL archive restore the database after the primary is lost: recovery point, recovery time and point-in-time recovery within budget',
  options: backupRestoreOptions,
  requires: { destructive: true },
  preflight(options, topology) {
    if (topology.provider !== 'native')
      throw new UsageError(
        `backup-restore runs on the native provider only (the topology's provider is ${topology.provider}; containers are a later step, and dbproof never restores over a database it did not start)`,
      );
    if (options.tool === 'pgbackrest') {
      try {
        findPgBackRest();
      } catch (error) {
        throw new UsageError(`backup-restore: ${(error as Error).message}`);
      }
    }
  },
  async run(context, options) {
    const { topology, links } = context;
    const recovery = topology.recovery;
    if (!recovery)
      throw new UsageError(
        `backup-restore needs a topology dbproof started itself with the native provider (this one is ${topology.provider})`,
      );
    const write = parseRequest(options.write, options.writeBody);
    const token = randomBytes(3).toString('hex');
    const rpoBudget = options.budgets.rpoMs ?? options.archiveTimeoutS * 1000 + 10_000;
    const origin = epochNow();
    const events: FaultEvent[] = [];
    const step = async <T>(kind: string, target: string, apply: () => Promise<T>): Promise<T> => {
      const t = epochNow() - origin;
      try {
        return await apply();
      } finally {
        events.push({ t, kind, target, durationMs: epochNow() - origin - t });
      }
    };
    const say = (line: string) => context.progress?.(line);

    say(
      `archiving WAL (${options.archiveCommand ?? `${options.tool}'s own`}, archive_timeout ${options.archiveTimeoutS} s)`,
    );
    await step('archive', 'primary', () =>
      recovery.enableArchiving({
        tool: options.tool,
        enabled: options.archive,
        command: options.archiveCommand,
        timeoutS: options.archiveTimeoutS,
      }),
    );
    await waitForApp(context.app.url, write, `${token}-ready`, minutes(2));

    say(`base backup with ${options.tool}`);
    let backup: BaseBackup;
    try {
      backup = await step('backup', options.tool, () =>
        recovery.takeBackup({ tool: options.tool, withWal: options.backupWal }),
      );
    } catch (error) {
      if (!(error instanceof RecoveryFailed)) throw error;
      return failedDrill(`the base backup with ${options.tool} succeeds`, error.message, events);
    }

    say(`${options.writers} writers on ${options.write} for ${options.durationMs} ms, then the primary is destroyed`);
    const timeline = new Timeline(250);
    const writesStart = epochNow();
    const pitrTarget = writesStart + (options.pitrAtMs ?? Math.floor(options.durationMs / 2));
    const { acknowledged, lastError } = await runAcknowledgedWriters({
      appUrl: context.app.url,
      write,
      writers: options.writers,
      thinkMs: options.thinkMs,
      keyPrefix: `d-${token}`,
      origin,
      timeline,
      until: () => epochNow() - writesStart >= options.durationMs,
    });
    const disasterAt = epochNow();
    await step('destroy', 'primary', () => recovery.destroyPrimary());

    say('restoring the latest state into a fresh node; the app is pointed at it');
    const latest = await restoreAndServe({
      recovery,
      links,
      backup,
      appUrl: context.app.url,
      probe: write,
      probeKey: `${token}-rto`,
      smoke: options.smoke.map((s) => parseRequest(s)),
      timeoutMs: options.restoreTimeoutMs,
      step,
    });
    const database = context.database;
    const keys = acknowledged.map((w) => w.key);
    const onLatest = latest.node
      ? await keysPresent(databaseUrl(latest.node.adminUrl, database), options.checkSql, keys)
      : new Set<string>();
    const point = recoveryPoint(acknowledged, onLatest, disasterAt);

    say(`restoring to ${new Date(pitrTarget).toISOString()} (point in time) into another node`);
    let pitr: ReturnType<typeof pitrCheck> | undefined;
    let pitrFailure: string | undefined;
    try {
      const restored = await step('restore', 'point in time', () =>
        recovery.restore({ backup, target: new Date(pitrTarget), timeoutMs: options.restoreTimeoutMs }),
      );
      const present = await keysPresent(databaseUrl(restored.node.adminUrl, database), options.checkSql, keys);
      pitr = pitrCheck(acknowledged, present, pitrTarget);
    } catch (error) {
      if (!(error instanceof RecoveryFailed)) throw error;
      pitrFailure = error.message;
    }
    const pitrMismatches = pitr ? pitr.missingBefore.length + pitr.presentAfter.length : null;
    const missingKeys = point.missing.map((w) => w.key);

    const verdicts: Verdict[] = [
      judge(
        `the base backup with ${options.tool} succeeds and passes its own verification`,
        atMost('backupFailures', 0, 'count'),
        backup.verification.ok ? 0 : 1,
        backup.verification.ok ? undefined : backup.verification.output,
      ),
      judge(
        'the latest state is restored into a fresh node, which the app then runs on',
        atMost('restoreFailures', 0, 'count'),
        latest.failure ? 1 : 0,
        latest.failure,
      ),
      judge(
        `recovery point: the writes lost are at most ${rpoBudget / 1000} s old at the disaster (archive_timeout ${options.archiveTimeoutS} s + 10 s)`,
        atMost('rpoMs', rpoBudget, 'ms', options.write),
        latest.node ? point.rpoMs : null,
        lostEvidence(missingKeys, `${missingKeys.length} acknowledged writes missing`) ?? latest.failure,
      ),
      judge(
        `recovery time: the app answers on the restored node within ${options.budgets.rtoMs / 1000} s of the restore's start`,
        atMost('rtoMs', options.budgets.rtoMs, 'ms'),
        latest.rtoMs,
        latest.failure,
      ),
      judge(
        'point-in-time recovery is exact: every write acknowledged before the target present, none sent after it',
        atMost('pitrMismatches', options.budgets.pitrMismatches, 'count', options.write),
        pitrMismatches,
        pitrFailure ??
          lostEvidence(pitr?.missingBefore ?? [], 'missing before the target') ??
          lostEvidence(pitr?.presentAfter ?? [], 'present after the target'),
      ),
      judge(
        `the app answers ${options.smoke.join(', ')} on the restored node`,
        atMost('smokeFailures', 0, 'count'),
        latest.node ? latest.smokeFailures.length : null,
        latest.smokeFailures[0] ?? latest.failure,
      ),
    ];
    return {
      verdicts,
      measurements: {
        acknowledgedWrites: acknowledged.length,
        missingWrites: latest.node ? missingKeys.length : null,
        rpoMs: latest.node ? point.rpoMs : null,
        rtoMs: latest.rtoMs,
        restoreMs: latest.restoreMs,
        backupMs: Math.round(backup.durationMs),
        pitrMismatches,
        pitrWritesBefore: pitr?.before ?? null,
        pitrWritesAfter: pitr?.after ?? null,
        drillMs: epochNow() - origin,
      },
      events,
      timelines: [timelineRecord(`${options.writers} writers on ${options.write}`, timeline)],
      notes: [
        `backup: ${options.tool}${options.backupWal ? '' : ' without WAL'}; ${backup.verification.output}`,
        `archive: ${options.archive ? (options.archiveCommand ?? `${options.tool}'s own archive_command`) : 'archive_mode off'}, archive_timeout ${options.archiveTimeoutS} s`,
        `disaster: the primary SIGKILLed and its data directory deleted ${Math.round(disasterAt - writesStart)} ms after the writers started`,
        `point-in-time target: ${new Date(pitrTarget).toISOString()} (${Math.round(pitrTarget - writesStart)} ms into the writes)`,
        'a write whose answer did not arrive (timed out, connection lost) is neither acknowledged nor counted missing',
        ...(lastError.message ? [`last failed write: ${lastError.message}`] : []),
        ...(missingKeys.length ? [`missing after the restore: ${missingKeys.join(', ')}`] : []),
      ],
    };
  },
});

/** A drill that stopped at the backup: every later verdict fails with nothing measured. */
function failedDrill(claim: string, reason: string, events: FaultEvent[]) {
  return {
    verdicts: [
      judge(claim, atMost('backupFailures', 0, 'count'), 1, reason),
      judge('the latest state is restored into a fresh node', atMost('restoreFailures', 0, 'count'), null, reason),
    ],
    measurements: { backupFailures: 1 },
    events,
    timelines: [],
    notes: [`the drill stopped: ${reason}`],
  };
}
