import type { Answer } from '../../harness/http/session.ts';
import { redact } from '../../harness/redact.ts';
import type { Batch, BatchItem } from './batches.ts';
import type { ReportSpec } from './options.ts';

/** What the answer says became of an item. */
export type Reported = 'stored' | 'failed' | 'unreported';

/** A batch as sent: its answer (none when it timed out or the connection failed), and how long it took. */
export interface Sent {
  batch: Batch;
  answer?: Answer;
  /** Why there is no answer. */
  error?: string;
  ms: number;
}

export const answeredOk = (sent: Sent) =>
  sent.answer !== undefined && sent.answer.status >= 200 && sent.answer.status < 300;

/** The value at a dotted path of a JSON value ('' is the value itself). */
function at(value: unknown, path: string): unknown {
  if (path === '') return value;
  return path
    .split('.')
    .reduce<unknown>(
      (v, name) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[name] : undefined),
      value,
    );
}

/** Each item's outcome as a 2xx answer reports it, by position; undefined when the answer has no list where the report says. */
export function reportedOutcomes(body: unknown, batch: Batch, report: ReportSpec): Reported[] | undefined {
  const entries = at(body, report.list);
  if (!Array.isArray(entries)) return undefined;
  const [how, field = ''] = report.item.split(/:(.*)/s) as [string, string?];
  const placeOf = (entry: unknown, index: number): number | undefined => {
    if (how === 'order') return index;
    const named = at(entry, field);
    if (how === 'key') return batch.items.find((item) => item.key === named)?.position;
    return typeof named === 'number' ? named - report.firstPosition : undefined;
  };
  const reported: Reported[] = batch.items.map(() => (report.lists === 'failures' ? 'stored' : 'unreported'));
  entries.forEach((entry, index) => {
    const place = placeOf(entry, index);
    if (place === undefined || place < 0 || place >= reported.length) return;
    if (report.lists === 'failures') reported[place] = 'failed';
    else reported[place] = at(entry, report.status) === report.stored ? 'stored' : 'failed';
  });
  return reported;
}

/**
 * What went wrong, item by item, over every batch: each entry a line naming the batch, the
 * item's place, kind and key, so that a failed verdict shows which items and why.
 */
export class Tally {
  readonly lost: string[] = [];
  readonly duplicated: string[] = [];
  readonly badReportedStored: string[] = [];
  readonly goodReportedFailed: string[] = [];
  readonly partial: string[] = [];
  /** Bad items the table took: their fields did not make them bad (or the app repaired them). */
  readonly badStored: string[] = [];
  batches = 0;
  items = 0;

  /**
   * Judges one answer against the table (`stored`: how many rows each key has). A batch
   * answered failed as a whole is, without a fault, every good item lost and reported
   * failed; under a fault (`wholeFailure: 'allowed'`) it must have stored nothing.
   */
  judge(sent: Sent, stored: ReadonlyMap<string, number>, report: ReportSpec, wholeFailure: 'lost' | 'allowed'): void {
    this.batches++;
    this.items += sent.batch.items.length;
    const rows = (item: BatchItem) => stored.get(item.key) ?? 0;
    const label = (item: BatchItem, what: string) =>
      `${sent.batch.name}: item ${item.position} (${item.kind ?? 'good'}, ${item.key}) ${what}`;
    for (const item of sent.batch.items) {
      if (!item.kind && rows(item) > 1) this.duplicated.push(label(item, `stored ${rows(item)} times`));
      if (item.kind && rows(item) > 0) this.badStored.push(label(item, 'stored'));
    }
    if (!answeredOk(sent)) {
      const why = sent.answer
        ? `HTTP ${sent.answer.status} ${redact(JSON.stringify(sent.answer.body)).slice(0, 100)}`
        : `no answer (${sent.error})`;
      if (wholeFailure === 'allowed') {
        const kept = sent.batch.items.filter((item) => rows(item) > 0);
        if (kept.length > 0)
          this.partial.push(
            `${sent.batch.name}: ${why}, yet ${kept.length} of its ${sent.batch.items.length} items stored`,
          );
        return;
      }
      for (const item of sent.batch.items.filter((i) => !i.kind)) {
        if (rows(item) === 0) this.lost.push(label(item, `not stored: the batch was answered ${why}`));
        this.goodReportedFailed.push(label(item, `reported failed: the batch was answered ${why}`));
      }
      return;
    }
    const reported =
      reportedOutcomes(sent.answer!.body, sent.batch, report) ?? sent.batch.items.map(() => 'unreported');
    const saying = (said: Reported) => (said === 'unreported' ? 'not in the answer' : `reported ${said}`);
    for (const item of sent.batch.items) {
      const said = reported[item.position]!;
      if (item.kind) {
        if (said !== 'failed') this.badReportedStored.push(label(item, saying(said)));
        continue;
      }
      if (rows(item) === 0) this.lost.push(label(item, `not stored, ${saying(said)}`));
      if (said !== 'stored') this.goodReportedFailed.push(label(item, saying(said)));
    }
  }
}

/** A few lines of a tally's list for a verdict's evidence. */
export function evidenceOf(lines: string[], max = 3): string | undefined {
  if (lines.length === 0) return undefined;
  const shown = lines.slice(0, max).join('; ');
  return lines.length > max ? `${shown}; and ${lines.length - max} more` : shown;
}
