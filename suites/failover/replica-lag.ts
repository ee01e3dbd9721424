import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { atMost, judge } from '../../harness/budgets/index.ts';
import { runSchedule } from '../../harness/faults/index.ts';
import { queryRows } from '../../harness/pg/client.ts';
import { UsageError } from '../../harness/errors.ts';
import { defineSuite, field, parseRequest, Session, timelineRecord } from '../../harness/suite/index.ts';
import { Timeline } from '../../load/timeline.ts';
import { count, ms, request } from '../support/options.ts';

const DISCONNECT_NEEDS_CONTAINERS =
  "replica-lag with lagBy: 'disconnect' needs the containers provider (a network to cut): use --provider containers, or lagBy: 'pause-replay'";

/**
 * Replicas fall behind (WAL replay paused on every replica, the node still up and
 * answering) while a writer keeps writing one value and readers keep reading it:
 * - a read-your-writes violation: the writer reads back an older value than it just wrote;
 * - a stale read: a reader gets a value older than one acknowledged more than
 *   `staleAfterMs` before its read began (replication is asynchronous: a few ms of
 *   staleness is normal; seconds of it is the promise broken).
 */
export const replicaLag = defineSuite({
  name: 'replica-lag',
  description:
    'replicas stop replaying while writes continue: read-your-writes violations and stale reads are counted against budgets',
  options: z
    .object({
      /** Sets the value; `{id}` and `{value}` are filled in. */
      write: request('PUT /inspections/{id}/status'),
      writeBody: z.unknown().default({ status: '{value}' }),
      /** Reads the value back. */
      read: request('GET /inspections/{id}/status'),
      /** The field of the read's JSON answer that holds the value. */
      field: z.string().min(1).default('status'),
      id: z.number().int().min(1).default(1),
      readers: z.number().int().min(1).max(50).default(2),
      /** Pause between a session's requests. */
      thinkMs: ms(20),
      durationMs: ms(6000),
      lagAtMs: ms(1000),
      /**
       * How replicas fall behind: \`pause-replay\` (pg_wal_replay_pause, any provider) or
       * \`disconnect\` (containers: cut from the topology network, so no WAL arrives).
       */
      lagBy: z.enum(['pause-replay', 'disconnect']).default('pause-replay'),
      lagForMs: ms(3000),
      budgets: z
        .object({
          readYourWritesViolations: count(0),
          staleReads: count(0),
          /** A read is stale when the value it got had been overwritten longer ago than this when the read began. */
          staleAfterMs: ms(1000),
          /**
           * Writes acknowledged while the replicas lag, at least: with none, nothing was
           * tested (synchronous replication blocks every commit while its standbys are cut off).
           */
          writesDuringLag: count(1),
        })
        .strict()
        .prefault({}),
    })
    .strict(),
  requires: { replicas: 1 },
  preflight(options, topology) {
    if (options.lagBy === 'disconnect' && topology.provider !== 'containers')
      throw new UsageError(DISCONNECT_NEEDS_CONTAINERS);
  },
  async run(context, options) {
    const { topology } = context;
    const write = parseRequest(options.write, options.writeBody);
    const read = parseRequest(options.read);
    const token = randomBytes(3).toString('hex');
    const valueNumbered = (n: number) => `lag-${token}-${n}`;
    const numberOf = (value: unknown) => {
      const match = new RegExp(`^lag-${token}-(\\d+)$`).exec(String(value));
      return match ? Number(match[1]) : -1;
    };
    const onReplica = (adminUrl: string) =>
      Object.assign(new URL(adminUrl), { pathname: `/${context.database}` }).toString();
    const setReplay = (sql: string) => Promise.all(topology.replicas.map((r) => queryRows(onReplica(r.adminUrl), sql)));
    type Partitionable = { disconnect(): Promise<void>; reconnect(): Promise<void> };
    const partitionable = topology.replicas.filter(
      (r): r is typeof r & Partitionable => typeof (r as Partial<Partitionable>).disconnect === 'function',
    );
    if (options.lagBy === 'disconnect' && partitionable.length !== topology.replicas.length) {
      throw new UsageError(DISCONNECT_NEEDS_CONTAINERS);
    }
    const [lag, catchUp] =
      options.lagBy === 'disconnect'
        ? [
            () => Promise.all(partitionable.map((r) => r.disconnect())),
            () => Promise.all(partitionable.map((r) => r.reconnect())),
          ]
        : [() => setReplay('SELECT pg_wal_replay_pause()'), () => setReplay('SELECT pg_wal_replay_resume()')];

    // Value 0 everywhere before the clock starts.
    const writer = new Session(context.app.url);
    await writer.expectOk(write, { id: options.id, value: valueNumbered(0) });
    await Promise.all(topology.replicas.map((r) => r.waitForCatchup(30_000)));

    /** acknowledged[n]: when the write of value n was answered (ms after the start). */
    const acknowledged: number[] = [0];
    let readYourWritesViolations = 0;
    let staleReads = 0;
    let worstStalenessMs = 0;
    let errors = 0;
    let lastError = '';
    // When each answered read began (ms after the start): those while the replicas lagged are
    // what the two read verdicts judge, and with none they judge nothing.
    const readBacksAt: number[] = [];
    const readsAt: number[] = [];
    const timeline = new Timeline(250);
    const started = performance.now();
    const now = () => performance.now() - started;
    const running = () => now() < options.durationMs;

    const schedule = runSchedule([
      {
        at: options.lagAtMs,
        kind: options.lagBy === 'disconnect' ? 'disconnect' : 'pause-replay',
        target: 'replicas',
        apply: lag,
      },
      {
        at: options.lagAtMs + options.lagForMs,
        kind: options.lagBy === 'disconnect' ? 'reconnect' : 'resume-replay',
        target: 'replicas',
        apply: catchUp,
      },
    ]);

    const timed = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
      const at = now();
      try {
        const value = await fn();
        timeline.record(at, now() - at, true);
        return value;
      } catch (error) {
        errors++;
        lastError = (error as Error).message;
        timeline.record(at, now() - at, false);
        return undefined;
      }
    };

    const writerLoop = async () => {
      for (let n = 1; running(); n++) {
        const written = await timed(() => writer.expectOk(write, { id: options.id, value: valueNumbered(n) }));
        if (written) {
          acknowledged[n] = now();
          const readAt = now();
          const seen = await timed(() => writer.expectOk(read, { id: options.id }));
          if (seen) readBacksAt.push(readAt);
          if (seen && numberOf(field(seen, options.field)) < n) readYourWritesViolations++;
        }
        await sleep(options.thinkMs);
      }
    };

    const readerLoop = async () => {
      const reader = new Session(context.app.url);
      while (running()) {
        const startedAt = now();
        const seen = await timed(() => reader.expectOk(read, { id: options.id }));
        if (seen) {
          readsAt.push(startedAt);
          // Stale by how long ago the next value was acknowledged, as of when this read began.
          const next = acknowledged[numberOf(field(seen, options.field)) + 1];
          const staleness = next !== undefined && next < startedAt ? startedAt - next : 0;
          worstStalenessMs = Math.max(worstStalenessMs, staleness);
          if (staleness > options.budgets.staleAfterMs) staleReads++;
        }
        await sleep(options.thinkMs);
      }
    };

    try {
      await Promise.all([writerLoop(), ...Array.from({ length: options.readers }, readerLoop)]);
    } finally {
      schedule.cancel();
      await catchUp().catch(() => {});
    }
    const events = await schedule.done;
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`could not ${failed.kind} on ${failed.target}: ${failed.error}`);
    // From when the fault had taken effect (cutting a network takes ~100 ms), to when it was undone.
    const lagFrom = events[0] ? events[0].t + events[0].durationMs : options.lagAtMs;
    const lagTo = events[1]?.t ?? options.lagAtMs + options.lagForMs;
    const duringLag = (t: number) => t > lagFrom && t < lagTo;
    const writesDuringLag = acknowledged.filter(duringLag).length;
    const readBacksDuringLag = readBacksAt.filter(duringLag).length;
    const readsDuringLag = readsAt.filter(duringLag).length;
    const noRead = (what: string) =>
      `no ${what} was answered while replicas lagged (${errors} requests failed${lastError ? `; last error: ${lastError}` : ''}): nothing to judge`;
    const scope = `${options.write} → ${options.read}`;
    return {
      verdicts: [
        judge(
          'writes continue while replicas lag',
          {
            metric: 'writesDuringLag',
            op: '>=',
            limit: options.budgets.writesDuringLag,
            unit: 'count',
            scope: options.write,
          },
          writesDuringLag,
          writesDuringLag < options.budgets.writesDuringLag
            ? `no write was acknowledged while replicas lagged${lastError ? ` (last error: ${lastError})` : ''}: the stale-read checks below had nothing to catch`
            : undefined,
        ),
        judge(
          'a session reads its own writes while replicas lag',
          atMost('readYourWritesViolations', options.budgets.readYourWritesViolations, 'count', scope),
          readBacksDuringLag === 0 ? null : readYourWritesViolations,
          readBacksDuringLag === 0 ? noRead('read of a write') : lastError ? `last error: ${lastError}` : undefined,
        ),
        judge(
          `no read is more than ${options.budgets.staleAfterMs} ms stale while replicas lag`,
          atMost('staleReads', options.budgets.staleReads, 'count', scope),
          readsDuringLag === 0 ? null : staleReads,
          readsDuringLag === 0 ? noRead("reader's read") : `worst staleness ${Math.round(worstStalenessMs)} ms`,
        ),
      ],
      measurements: {
        writes: acknowledged.length - 1,
        writesDuringLag,
        readsDuringLag: readsDuringLag + readBacksDuringLag,
        reads: timeline.requests - (acknowledged.length - 1),
        errors,
        // null when no read of its kind was answered during the lag, as its verdict.
        readYourWritesViolations: readBacksDuringLag === 0 ? null : readYourWritesViolations,
        staleReads: readsDuringLag === 0 ? null : staleReads,
        worstStalenessMs,
      },
      events,
      timelines: [timelineRecord(`${options.readers} readers and a writer on ${scope}`, timeline)],
      notes: [
        options.lagBy === 'disconnect'
          ? `${topology.replicas.map((r) => r.name).join(', ')} cut from the topology network (no WAL arrived); the app still reached them`
          : `WAL replay paused on ${topology.replicas.map((r) => r.name).join(', ')} with pg_wal_replay_pause(); the nodes stayed up and kept receiving WAL`,
      ],
    };
  },
});
