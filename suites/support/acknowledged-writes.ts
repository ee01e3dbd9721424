import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { queryRows } from '../../harness/pg/client.ts';
import { LastError, Session, type RequestSpec } from '../../harness/suite/index.ts';
import type { Timeline } from '../../load/timeline.ts';

/** A write the app answered 2xx to: it promised the write is committed. Times are epoch ms. */
export interface AcknowledgedWrite {
  key: string;
  sentAt: number;
  ackedAt: number;
}

export interface WritersOptions {
  appUrl: string;
  /** A write the app acknowledges only once committed; `{key}` is filled with a unique key. */
  write: RequestSpec;
  /** Writes straight to the database instead: `statement` with `$1` the key, committed on its own, at `url`. */
  sql?: { url: string; statement: string };
  writers: number;
  thinkMs: number;
  /** Keys are `<prefix>-<writer>-<n>`. */
  keyPrefix: string;
  /** Time 0 of the timeline, epoch ms. */
  origin: number;
  timeline: Timeline;
  /** Asked before each write: true ends that writer. */
  until: () => boolean;
}

/**
 * The clock the writes are timed with: the wall clock in whole ms, the one the database's
 * commit timestamps (and a `recovery_target_time`) are read from on this machine.
 */
export const epochNow = () => Date.now();

/**
 * Writers that record every write the app acknowledged, with its key and times (a
 * Jepsen-style history): afterwards each key is looked up in the database. A write whose
 * answer did not arrive (timed out, connection lost) is neither acknowledged nor lost.
 */
export async function runAcknowledgedWriters(
  options: WritersOptions,
): Promise<{ acknowledged: AcknowledgedWrite[]; lastError: LastError }> {
  const acknowledged: AcknowledgedWrite[] = [];
  const lastError = new LastError();
  const writerLoop = async (writer: number) => {
    const send = options.sql ? sqlWriter(options.sql) : appWriter(options.appUrl, options.write);
    for (let n = 0; !options.until(); n++) {
      const key = `${options.keyPrefix}-${writer}-${n}`;
      const sentAt = epochNow();
      try {
        await send.write(key);
        const ackedAt = epochNow();
        acknowledged.push({ key, sentAt, ackedAt });
        options.timeline.record(sentAt - options.origin, ackedAt - sentAt, true);
      } catch (error) {
        lastError.message = (error as Error).message;
        options.timeline.record(sentAt - options.origin, epochNow() - sentAt, false);
        await sleep(50); // a failing endpoint is not hammered
      }
      await sleep(options.thinkMs);
    }
    await send.close();
  };
  await Promise.all(Array.from({ length: options.writers }, (_, i) => writerLoop(i)));
  return { acknowledged, lastError };
}

interface Writer {
  /** Resolves once the write is acknowledged (committed, as its sender promises); throws otherwise. */
  write(key: string): Promise<void>;
  close(): Promise<void>;
}

function appWriter(appUrl: string, write: RequestSpec): Writer {
  const session = new Session(appUrl, 5000);
  return { write: async (key) => void (await session.expectOk(write, { key })), close: async () => {} };
}

/** One connection per writer, opened again after it fails (the primary may be gone). */
function sqlWriter({ url, statement }: { url: string; statement: string }): Writer {
  let client: pg.Client | undefined;
  const drop = async () => {
    await client?.end().catch(() => {});
    client = undefined;
  };
  return {
    async write(key) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, query_timeout: 5000 });
          client.on('error', () => {}); // a connection that dies under us is dropped below
          await client.connect();
        }
        await client.query(statement, [key]);
      } catch (error) {
        await drop();
        throw error;
      }
    },
    close: drop,
  };
}

/** Which of `keys` the database at `url` holds: `checkSql` takes `$1` (text[]) and returns a column `key`. */
export async function keysPresent(url: string, checkSql: string, keys: string[]): Promise<Set<string>> {
  return new Set((await queryRows<{ key: string }>(url, checkSql, [keys])).map((r) => r.key));
}

/** `lost: k1, k2, … and n more`, or undefined when nothing was lost. */
export function lostEvidence(lost: string[], label = 'lost'): string | undefined {
  return lost.length
    ? `${label}: ${lost.slice(0, 10).join(', ')}${lost.length > 10 ? ` and ${lost.length - 10} more` : ''}`
    : undefined;
}
