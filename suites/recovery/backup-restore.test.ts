// "We can restore": a base backup taken with a real tool and the WAL archive bring the
// database back after the primary is SIGKILLed and its data directory deleted. Each case
// destroys its primary, so each starts a topology of its own; the negative controls
// (nothing archived, a segment never switched, a backup without WAL and no archive) must
// fail the verdict that names what went wrong. Correctness is judged on keys, never on
// speed: the time budgets here are generous (a shared two-core machine).
import { describe, expect, test } from 'vitest';
import { startTopology } from '../../harness/providers/index.ts';
import { runSuite } from '../../harness/suite/index.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { resultsRun, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { backupRestore } from './backup-restore.ts';
import {
  expectNothingArchived,
  expectPgBackRestDrill,
  expectPgBackRestRefusal,
  expectRestoredDrill,
  expectSegmentNeverArchived,
  TRICKLE_NEVER_SWITCHED,
} from './drill-expectations.ts';

/** Runs one drill on a topology and target of its own, both stopped before it returns (also when it throws). */
async function drill(name: string, options: object) {
  const topology = await startTopology({ replicas: 0, redis: false });
  let target: ReferenceTarget | undefined;
  try {
    target = await startReferenceTarget(topology, { redis: false, replicas: false });
    return await runSuite(backupRestore, target.context, options, {
      target: `${target.name}, ${name}`,
      run: await resultsRun(),
    });
  } finally {
    await target?.stop().catch(() => {});
    await topology.stop();
  }
}

// Two lanes at once, the drills within a lane one after another: each drill has its own
// topology, so neither lane's disaster touches the other's; two at a time (not all seven)
// keeps the write rates the verdicts count on within what a shared 2-core machine gives.
// The file takes about its longest lane (60 s) instead of the sum (109 s).
describe('pg_basebackup', { concurrent: true }, () => {
  test.sequential('pg_basebackup and the archive restore every write older than the archive timeout, and the point in time exactly', async () => {
    const result = await drill('pg_basebackup', { durationMs: 12_000 });
    expectRestoredDrill(result);
    expect(result.events.map((e) => e.kind)).toEqual(['archive', 'backup', 'destroy', 'restore', 'restore']);
  }, 300_000);

  test.sequential('writers straight to the database (writeSql) are checked key by key the same way', async () => {
    const result = await drill('pg_basebackup, writes in SQL', {
      writeSql: "INSERT INTO inspection_notes (key, inspection_id, body) VALUES ($1, 1, '')",
      durationMs: 12_000,
    });
    expect(result.pass, verdictLines(result)).toBe(true);
    expect(result.measurements.acknowledgedWrites).toBeGreaterThan(50);
    expect(result.measurements.missingWrites!).toBeLessThan(result.measurements.acknowledgedWrites!);
    expect(result.timelines[0]!.name).toMatch(/SQL straight to the database/);
  }, 300_000);

  test.sequential("with archive_command '/bin/true' nothing is archived: every write after the backup is lost and the point in time is never reached", async () => {
    const result = await drill("archive_command '/bin/true'", { archiveCommand: '/bin/true', durationMs: 20_000 });
    expectNothingArchived(result);
  }, 300_000);

  test.sequential('a base backup without WAL and no archive cannot be restored: a failed verdict, not an error', async () => {
    const result = await drill('backup without WAL, no archive', {
      backupWal: false,
      archive: false,
      durationMs: 3000,
    });
    const restore = verdictOn(result, 'restoreFailures');
    expect(restore.pass, verdictLines(result)).toBe(false);
    expect(restore.evidence).toMatch(/^restored1 did not start: FATAL: could not locate required checkpoint record/);
    expect(verdictOn(result, 'rpoMs').measured).toBeNull();
    expect(verdictOn(result, 'rtoMs').pass).toBe(false);
    expect(verdictOn(result, 'pitrMismatches').pass).toBe(false);
    // The backup's files are intact (pg_verifybackup -n): it is the missing WAL that makes it useless.
    expect(verdictOn(result, 'backupFailures').pass).toBe(true);
  }, 300_000);
});

describe('pgBackRest, and a segment never archived', { concurrent: true }, () => {
  test.sequential('with archive_timeout 0 and a trickle of writes the last segment is never archived: the recovery point grows with the gap', async () => {
    const result = await drill('archive_timeout 0, a trickle', TRICKLE_NEVER_SWITCHED);
    expectSegmentNeverArchived(result);
  }, 300_000);

  test.sequential('pgBackRest (stanza, full backup, archive-push and archive-get, verify) restores the latest state and the point in time', async () => {
    const result = await drill('pgBackRest', { tool: 'pgbackrest', durationMs: 12_000 });
    expectPgBackRestDrill(result);
  }, 300_000);

  test.sequential("pgBackRest refuses to back up a primary whose archive_command is '/bin/true': the backup verdict fails, and every later one with nothing measured", async () => {
    const result = await drill("pgBackRest, archive_command '/bin/true'", {
      tool: 'pgbackrest',
      archiveCommand: '/bin/true',
    });
    expectPgBackRestRefusal(result);
  }, 300_000);
});
