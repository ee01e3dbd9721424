// The drill on the containers provider: the archive is a directory of the run's own mounted
// into the primary's container, the base backup is taken from the host over the published
// port, the disaster removes the primary's container (and its data directory with it), and
// each restore is a fresh container. The same verdicts as on native; the '/bin/true' control
// must fail the recovery point for the same reason. Judged on keys, never on speed.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { startTopology } from '../../harness/providers/index.ts';
import type { SuiteResult } from '../../harness/results/index.ts';
import { runSuite } from '../../harness/suite/index.ts';
import type { Topology } from '../../harness/topology/types.ts';
import { dockerForTests, dockerLines, skipWithoutEngine, stillPresent } from '../../test/support/docker.ts';
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

/**
 * Runs one drill on a containers topology and target of its own; `beforeStop` sees them after
 * the drill, before both are stopped (also when it throws).
 */
async function drill(name: string, options: object, beforeStop?: (topology: Topology) => void): Promise<SuiteResult> {
  const topology = await startTopology({ provider: 'containers', replicas: 0, redis: false });
  let target: ReferenceTarget | undefined;
  try {
    target = await startReferenceTarget(topology, { redis: false, replicas: false });
    const result = await runSuite(backupRestore, target.context, options, {
      target: `${target.name}, containers, ${name}`,
      run: await resultsRun(),
    });
    beforeStop?.(topology);
    return result;
  } finally {
    // The target's database was on the destroyed primary: nothing is left there for it to drop.
    await target?.stop().catch(() => {});
    await topology.stop();
  }
}

const engine = dockerForTests('the backup-restore drill on containers');

// Two lanes at once, the drills within a lane one after another, as on native: each drill has
// a topology of its own, and the verdicts count keys, not speed.
describe('backup-restore on the containers provider', { ...skipWithoutEngine(engine), concurrent: true }, () => {
  test.sequential('on containers, pg_basebackup and the archive directory restore every write older than the archive timeout, and the point in time exactly; nothing stays', async () => {
    let made: { containers: string[]; network: string; recoveryDir: string; archived: boolean } | undefined;
    const result = await drill('pg_basebackup', { durationMs: 10_000 }, (topology) => {
      // Everything the drill made: the restored nodes on the topology's network, the archive and backup on the host.
      const { network } = (topology as unknown as { dockerIds(): { network: string } }).dockerIds();
      const containers = dockerLines(['ps', '-aq', '--no-trunc', '--filter', `network=${network}`]);
      const [networkName] = dockerLines(['network', 'inspect', '-f', '{{.Name}}', network]);
      const recoveryDir = path.join(tmpdir(), networkName!.replace(/^dbproof-/, 'dbproof-recovery-'));
      made = { containers, network, recoveryDir, archived: existsSync(path.join(recoveryDir, 'archive')) };
    });
    expectRestoredDrill(result);
    expect(result.notes[0]).toMatch(
      /^backup: pg_basebackup; pg_verifybackup: passed \(from the host over 127\.0\.0\.1:\d+\)/,
    );
    expect(made!.containers.length).toBe(2);
    expect(made!.archived).toBe(true);
    // All of it gone with the topology.
    expect(stillPresent({ containers: made!.containers, networks: [made!.network] })).toEqual([]);
    expect(existsSync(made!.recoveryDir)).toBe(false);
  }, 300_000);

  test.sequential("on containers, with archive_command '/bin/true' nothing is archived: every write after the backup is lost and the point in time is never reached", async () => {
    const result = await drill("archive_command '/bin/true'", { archiveCommand: '/bin/true', durationMs: 20_000 });
    expectNothingArchived(result);
  }, 300_000);

  test.sequential("on containers, a base backup without WAL and no archive cannot be restored: the restored container exits, a failed verdict with the server's words", async () => {
    const result = await drill('backup without WAL, no archive', {
      backupWal: false,
      archive: false,
      durationMs: 3000,
    });
    const restore = verdictOn(result, 'restoreFailures');
    expect(restore.pass, verdictLines(result)).toBe(false);
    expect(restore.evidence).toMatch(
      /^restored1 exited during recovery: FATAL: could not locate required checkpoint record/,
    );
    expect(verdictOn(result, 'rpoMs').measured).toBeNull();
    expect(verdictOn(result, 'backupFailures').pass).toBe(true);
  }, 300_000);
});

describe('backup-restore on the containers provider: pgBackRest, and a segment never archived', {
  ...skipWithoutEngine(engine),
  concurrent: true,
}, () => {
  test.sequential('on containers, pgBackRest in the image (stanza, full backup and verify by docker exec, archive-push, a restore and archive-get in each fresh container) restores the latest state and the point in time', async () => {
    const result = await drill('pgBackRest', { tool: 'pgbackrest', durationMs: 12_000 });
    expectPgBackRestDrill(result);
    expect(result.notes[0]).toMatch(/pgbackrest verify: passed \(in the primary container\)/);
  }, 300_000);

  test.sequential("on containers, pgBackRest refuses to back up a primary whose archive_command is '/bin/true': the backup verdict fails, every later one with nothing measured", async () => {
    const result = await drill("pgBackRest, archive_command '/bin/true'", {
      tool: 'pgbackrest',
      archiveCommand: '/bin/true',
    });
    expectPgBackRestRefusal(result);
  }, 300_000);

  test.sequential('on containers, with archive_timeout 0 and a trickle of writes the last segment is never archived: the recovery point grows with the gap', async () => {
    const result = await drill('archive_timeout 0, a trickle', TRICKLE_NEVER_SWITCHED);
    expectSegmentNeverArchived(result);
  }, 300_000);
});
