import { setTimeout as sleep } from 'node:timers/promises';
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
    const session = new Session(options.appUrl, 5000);
    for (let n = 0; !options.until(); n++) {
      const key = `${options.keyPrefix}-${writer}-${n}`;
      const sentAt = epochNow();
      try {
        await session.expectOk(options.write, { key });
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
  };
  await Promise.all(Array.from({ length: options.writers }, (_, i) => writerLoop(i)));
  return { acknowledged, lastError };
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
