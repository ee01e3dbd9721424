import { randomBytes } from 'node:crypto';
import type { FaultEvent } from '../../harness/faults/index.ts';
import { databaseUrl } from '../../harness/pg/client.ts';
import { findPgBackRest, findPostgresBinaries } from '../../harness/providers/native/binaries.ts';
import { UsageError } from '../../harness/errors.ts';
import { defineSuite, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { RecoveryFailed, type BaseBackup } from '../../harness/topology/recovery.ts';
import { Timeline } from '../../load/timeline.ts';
import { epochNow, keysPresent, lostEvidence, runAcknowledgedWriters } from '../support/acknowledged-writes.ts';
import { backupRestoreOptions, minutes } from './options.ts';
import { pitrCheck, recoveryPoint } from './recovery-point.ts';
import { restoreAndServe, waitForApp } from './restore-steps.ts';
import { drillVerdicts } from './verdicts.ts';

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
    if (topology.provider !== 'native' && topology.provider !== 'containers')
      throw new UsageError(
        `backup-restore runs on the native and containers providers only (the topology's provider is ${topology.provider}; dbproof never restores over a database it did not start)`,
      );
    if (topology.provider === 'containers' && options.tool === 'pg_basebackup') {
      // The base backup is taken from the host over the primary's published port (pgBackRest's, inside the containers).
      try {
        findPostgresBinaries();
      } catch (error) {
        throw new UsageError(
          `backup-restore on containers takes its base backup from the host: ${(error as Error).message}`,
        );
      }
    }
    // On containers pgBackRest runs inside them: the image must have it (asked once it runs), the host need not.
    if (options.tool === 'pgbackrest' && topology.provider !== 'containers') {
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
        `backup-restore needs a topology dbproof started itself with the native or containers provider (this one is ${topology.provider})`,
      );
    const missing = await recovery.missingTool?.(options.tool);
    if (missing) throw new UsageError(`backup-restore: ${missing}`);
    const write = parseRequest(options.write, options.writeBody);
    const token = randomBytes(3).toString('hex');
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

    // A tool that fails (pgBackRest's stanza-create, the backup itself) is the drill's finding, not an error.
    let backup: BaseBackup;
    try {
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
      backup = await step('backup', options.tool, () =>
        recovery.takeBackup({ tool: options.tool, withWal: options.backupWal }),
      );
    } catch (error) {
      if (!(error instanceof RecoveryFailed)) throw error;
      const found = { backupFailure: error.message, missingKeys: [], smokeFailures: null };
      const measurements: Record<string, number | null> = { backupFailures: 1, drillMs: epochNow() - origin };
      return {
        verdicts: drillVerdicts(options, { ...found, rpoMs: null, rtoMs: null, pitrMismatches: null }),
        measurements,
        events,
        timelines: [],
        notes: [`the drill stopped at the base backup: ${error.message}`],
      };
    }

    const writing = options.writeSql ? 'SQL straight to the database' : options.write;
    say(`${options.writers} writers on ${writing} for ${options.durationMs} ms, then the primary is destroyed`);
    const timeline = new Timeline(250);
    const writesStart = epochNow();
    const pitrTarget = writesStart + (options.pitrAtMs ?? Math.floor(options.durationMs / 2));
    const { acknowledged, lastError } = await runAcknowledgedWriters({
      appUrl: context.app.url,
      write,
      sql: options.writeSql ? { url: links.writer.url, statement: options.writeSql } : undefined,
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

    const verdicts = drillVerdicts(options, {
      backupFailure: backup.verification.ok ? undefined : backup.verification.output,
      restoreFailure: latest.failure,
      rpoMs: latest.node ? point.rpoMs : null,
      missingKeys,
      acknowledgedWrites: acknowledged.length,
      ...(lastError.message ? { lastWriteError: lastError.message } : {}),
      rtoMs: latest.rtoMs,
      pitrMismatches,
      pitrEvidence:
        pitrFailure ??
        lostEvidence(pitr?.missingBefore ?? [], 'missing before the target') ??
        lostEvidence(pitr?.presentAfter ?? [], 'present after the target'),
      smokeFailures: latest.node && !latest.failure ? latest.smokeFailures : null,
    });
    // The measurements are the verdicts' own: not measured where a verdict measured nothing
    // (drillVerdicts decides, e.g. no write acknowledged: nothing to recover).
    const measured = (metric: string) => verdicts.find((v) => v.budget.metric === metric)!.measured;
    return {
      verdicts,
      measurements: {
        acknowledgedWrites: acknowledged.length,
        missingWrites: latest.node ? missingKeys.length : null,
        rpoMs: measured('rpoMs'),
        newestMissingAgeMs: measured('rpoMs') === null ? null : point.newestMissingAgeMs,
        rtoMs: latest.rtoMs,
        restoreMs: latest.restoreMs,
        backupMs: Math.round(backup.durationMs),
        pitrMismatches: measured('pitrMismatches'),
        pitrWritesBefore: pitr?.before ?? null,
        pitrWritesAfter: pitr?.after ?? null,
        drillMs: epochNow() - origin,
      },
      events,
      timelines: [timelineRecord(`${options.writers} writers on ${writing}`, timeline)],
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
