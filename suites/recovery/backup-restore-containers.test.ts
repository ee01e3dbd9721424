// The drill on the containers provider: the archive is a directory of the run's own mounted
// into the primary's container, the base backup is taken from the host over the published
// port, the disaster removes the primary's container (and its data directory with it), and
// each restore is a fresh container. The same verdicts as on native; the '/bin/true' control
// must fail the recovery point for the same reason. Judged on keys, never on speed.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startTopology } from '../../harness/providers/index.ts';
import { runSuite } from '../../harness/suite/index.ts';
import type { Topology } from '../../harness/topology/types.ts';
import { dockerForTests, dockerLines, skipWithoutEngine, stillPresent } from '../../test/support/docker.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { resultsRun, startReferenceTarget, type ReferenceTarget } from '../support/reference-target.ts';
import { backupRestore } from './backup-restore.ts';
import {
  expectNothingArchived,
  expectPgBackRestDrill,
  expectRestoredDrill,
  expectSegmentNeverArchived,
  TRICKLE_NEVER_SWITCHED,
} from './drill-expectations.ts';

let topology: Topology | undefined;
let target: ReferenceTarget | undefined;

afterEach(async () => {
  await target?.stop().catch(() => {});
  await topology?.stop();
  target = topology = undefined;
});

async function drill(name: string, options: object) {
  topology = await startTopology({ provider: 'containers', replicas: 0, redis: false });
  target = await startReferenceTarget(topology, { redis: false, replicas: false });
  return runSuite(backupRestore, target.context, options, {
    target: `${target.name}, containers, ${name}`,
    run: await resultsRun(),
  });
}

const engine = dockerForTests('the backup-restore drill on containers');

describe('backup-restore on the containers provider', skipWithoutEngine(engine), () => {
  test('on containers, pg_basebackup and the archive directory restore every write older than the archive timeout, and the point in time exactly; nothing stays', async () => {
    const result = await drill('pg_basebackup', { durationMs: 10_000 });
    expectRestoredDrill(result);
    expect(result.notes[0]).toMatch(
      /^backup: pg_basebackup; pg_verifybackup: passed \(from the host over 127\.0\.0\.1:\d+\)/,
    );
    // Everything the drill made: the restored nodes on the topology's network, the archive and backup on the host.
    const { network } = (topology as unknown as { dockerIds(): { network: string } }).dockerIds();
    const containers = dockerLines(['ps', '-aq', '--no-trunc', '--filter', `network=${network}`]);
    expect(containers.length).toBe(2);
    const [networkName] = dockerLines(['network', 'inspect', '-f', '{{.Name}}', network]);
    const recoveryDir = path.join(tmpdir(), networkName!.replace(/^dbproof-/, 'dbproof-recovery-'));
    expect(existsSync(path.join(recoveryDir, 'archive'))).toBe(true);
    // The target's database was on the destroyed primary: nothing is left there for it to drop.
    await target!.stop().catch(() => {});
    await topology!.stop();
    target = topology = undefined;
    expect(stillPresent({ containers, networks: [network] })).toEqual([]);
    expect(existsSync(recoveryDir)).toBe(false);
  }, 300_000);

  test("on containers, with archive_command '/bin/true' nothing is archived: every write after the backup is lost and the point in time is never reached", async () => {
    const result = await drill("archive_command '/bin/true'", { archiveCommand: '/bin/true', durationMs: 20_000 });
    expectNothingArchived(result);
  }, 300_000);

  test('on containers, pgBackRest in the image (stanza, full backup and verify by docker exec, archive-push, a restore and archive-get in each fresh container) restores the latest state and the point in time', async () => {
    const result = await drill('pgBackRest', { tool: 'pgbackrest', durationMs: 12_000 });
    expectPgBackRestDrill(result);
    expect(result.notes[0]).toMatch(/pgbackrest verify: passed \(in the primary container\)/);
  }, 300_000);

  test('on containers, with archive_timeout 0 and a trickle of writes the last segment is never archived: the recovery point grows with the gap', async () => {
    const result = await drill('archive_timeout 0, a trickle', TRICKLE_NEVER_SWITCHED);
    expectSegmentNeverArchived(result);
  }, 300_000);

  test("on containers, a base backup without WAL and no archive cannot be restored: the restored container exits, a failed verdict with the server's words", async () => {
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
