import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { runSchedule, type ScheduledFault } from '../../harness/faults/index.ts';
import { queryRows, withClient } from '../../harness/pg/client.ts';
import { UsageError } from '../../harness/errors.ts';
import { defineSuite, parseRequest, timelineRecord } from '../../harness/suite/index.ts';
import { Timeline } from '../../load/timeline.ts';
import { epochNow, keysPresent, lostEvidence, runAcknowledgedWriters } from '../support/acknowledged-writes.ts';
import { count, ms, replicaNumber, request } from '../support/options.ts';

/** Writes about `bytes` of WAL: 1 MB rows of random text, stored uncompressed, in the `postgres` database. */
async function fillWal(adminUrl: string, bytes: number): Promise<void> {
  const maintenance = Object.assign(new URL(adminUrl), { pathname: '/postgres' }).toString();
  await withClient(maintenance, async (client) => {
    await client.query('CREATE TABLE IF NOT EXISTS dbproof_wal_filler (b text)');
    await client.query('ALTER TABLE dbproof_wal_filler ALTER COLUMN b SET STORAGE EXTERNAL');
    await client.query(
      "INSERT INTO dbproof_wal_filler SELECT (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 32768)) FROM generate_series(1, $1::int)",
      [Math.ceil(bytes / 1_048_576)],
    );
  });
}

/**
 * The primary dies under a write load and dbproof fails over, as Patroni would: it
 * promotes a replica and re-points the writer endpoint (the app's DATABASE_URL is a
 * stable endpoint, a proxy here, as a virtual IP, HAProxy or PgBouncer is in
 * production; this suite measures that set-up, not an app that discovers the primary
 * itself). Writers record every key the app acknowledged; afterwards each one is
 * looked up on the new primary (a Jepsen-style check). The candidate is frozen for a
 * moment before the primary dies (by default), as a real promotion candidate is rarely
 * fully caught up: with synchronous replication no acknowledged write may be lost; with
 * asynchronous replication the lost ones are reported by key.
 */
export const primaryLost = defineSuite({
  name: 'primary-lost',
  description:
    'the primary is killed under writes and a replica promoted: no acknowledged write lost, write unavailability within budget',
  options: z
    .object({
      /** A write the app acknowledges only once committed; `{key}` is a unique key per write. */
      write: request('POST /notes'),
      writeBody: z.unknown().default({ key: '{key}', inspectionId: 1 }),
      /** Which of the keys are on the new primary: `$1` is the text[] of acknowledged keys; returns a column `key`. */
      checkSql: z.string().min(1).default('SELECT key FROM inspection_notes WHERE key = ANY($1::text[])'),
      /** The replica promoted (1-based). */
      candidate: replicaNumber,
      writers: z.number().int().min(1).max(64).default(4),
      thinkMs: ms(10),
      durationMs: ms(7000),
      /** Freeze the candidate this long before the primary dies (0: it stays caught up). */
      candidateLagMs: ms(1000),
      /**
       * WAL to write on the primary (into a table of dbproof's own in the \`postgres\` database)
       * right after the candidate freezes, so that it truly lags: a frozen standby still gets
       * whatever fits in the kernel's socket buffers (~200 KB on a Unix socket, MBs on TCP),
       * and a quiet app writes less than that in a second. Asynchronous replication only
       * (with synchronous replication the filler would wait for the frozen standby).
       */
      candidateLagBytes: z.number().int().min(0).max(1_000_000_000).default(0),
      killAtMs: ms(2500),
      /** From the kill to the promotion: the failure detection of a real orchestrator. */
      detectionMs: ms(500),
      budgets: z
        .object({
          lostWrites: count(0),
          /** The longest time in which no write was acknowledged. */
          writeUnavailableMs: ms(5000),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: { replicas: 1, destructive: true },
  async run(context, options) {
    const { topology, links } = context;
    const candidate = topology.replicas[options.candidate - 1]!;
    const write = parseRequest(options.write, options.writeBody);
    const token = randomBytes(3).toString('hex');
    const timeline = new Timeline(250);
    const origin = epochNow();

    const faults: ScheduledFault[] = [];
    if (options.candidateLagMs > 0)
      faults.push({
        at: options.killAtMs - options.candidateLagMs,
        kind: 'pause',
        target: candidate.name,
        apply: () => candidate.pause(),
      });
    if (options.candidateLagMs > 0 && options.candidateLagBytes > 0) {
      const synchronous =
        (
          await queryRows<{ names: string }>(
            topology.primary.adminUrl,
            "SELECT current_setting('synchronous_standby_names') AS names",
          )
        )[0]!.names !== '';
      if (synchronous)
        throw new UsageError(
          'primary-lost: candidateLagBytes needs asynchronous replication (the filler would wait for the frozen standby); set it to 0 or topology.synchronous: false',
        );
      faults.push({
        at: options.killAtMs - options.candidateLagMs + 1,
        kind: 'fill-wal',
        target: 'primary',
        apply: () => fillWal(topology.primary.adminUrl, options.candidateLagBytes),
      });
    }
    faults.push({ at: options.killAtMs, kind: 'kill', target: 'primary', apply: () => topology.primary.kill() });
    faults.push({
      at: options.killAtMs + options.detectionMs,
      kind: 'promote',
      target: candidate.name,
      apply: async () => {
        if (options.candidateLagMs > 0) await candidate.resume();
        await candidate.promote();
        links.repointWriter(candidate);
      },
    });
    context.progress?.(
      `${options.writers} writers on ${options.write}; primary killed at ${options.killAtMs} ms, ${candidate.name} promoted ${options.detectionMs} ms later`,
    );
    const schedule = runSchedule(faults);

    const { acknowledged, lastError } = await runAcknowledgedWriters({
      appUrl: context.app.url,
      write,
      writers: options.writers,
      thinkMs: options.thinkMs,
      keyPrefix: `w-${token}`,
      origin,
      timeline,
      until: () => epochNow() - origin >= options.durationMs,
    });
    const events = await schedule.done;
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`could not ${failed.kind} ${failed.target}: ${failed.error}`);

    // The Jepsen-style check: every acknowledged key, looked up on the new primary.
    const onNewPrimary = Object.assign(new URL(candidate.adminUrl), { pathname: `/${context.database}` }).toString();
    const keys = acknowledged.map((w) => w.key);
    const present = await keysPresent(onNewPrimary, options.checkSql, keys);
    const lost = keys.filter((k) => !present.has(k));
    const ackTimes = [0, ...acknowledged.map((w) => w.ackedAt - origin).sort((a, b) => a - b), options.durationMs];
    const writeUnavailableMs = ackTimes.slice(1).reduce((worst, t, i) => Math.max(worst, t - ackTimes[i]!), 0);
    return {
      verdicts: [
        judge(
          `every write acknowledged before the failover is on the new primary (${candidate.name})`,
          atMost('lostWrites', options.budgets.lostWrites, 'count', options.write),
          lost.length,
          lostEvidence(lost),
        ),
        judge(
          `writes are unavailable for at most ${options.budgets.writeUnavailableMs} ms during the failover`,
          atMost('writeUnavailableMs', options.budgets.writeUnavailableMs, 'ms', options.write),
          writeUnavailableMs,
          lastError.evidence,
        ),
      ],
      measurements: {
        acknowledgedWrites: keys.length,
        lostWrites: lost.length,
        failedWrites: timeline.errors,
        writeUnavailableMs,
      },
      events,
      timelines: [timelineRecord(`${options.writers} writers on ${options.write}`, timeline)],
      notes: [
        `failover: dbproof promoted ${candidate.name} (pg_promote) ${options.detectionMs} ms after the kill and re-pointed the app's writer endpoint (a proxy, closing its open connections) to it; the app was not told`,
        `a write whose answer did not arrive (timed out, connection lost) is neither acknowledged nor counted lost: its outcome is unknown`,
        ...(lost.length ? [`lost keys: ${lost.join(', ')}`] : []),
      ],
    };
  },
});
