import type pg from 'pg';
import { UsageError } from '../../harness/errors.ts';
import { parseRequest, type RequestSpec, type Session } from '../../harness/http/session.ts';
import { redact } from '../../harness/redact.ts';
import { type Batch, BatchMaker } from './batches.ts';
import type { Endpoint } from './options.ts';
import { answeredOk, reportedOutcomes, type Sent, Tally } from './outcomes.ts';
import { rowsByKey } from './table.ts';

const UNANSWERED_LIMIT = 3;

/** The app answered none of the last few batches: what is left of the endpoint's cases is not sent. */
export class AppStopped extends Error {
  constructor(request: string) {
    super(`${request} answered none of the last ${UNANSWERED_LIMIT} batches: the cases after them were not run`);
  }
}

/**
 * One batch endpoint under test: its batches sent one at a time, each answer judged
 * against the table (by each item's key) into the endpoint's tally.
 */
export class EndpointCheck {
  readonly tally = new Tally();
  readonly maker: BatchMaker;
  readonly #spec: RequestSpec;
  #answerShapeChecked = false;
  #unansweredInARow = 0;

  constructor(
    readonly endpoint: Endpoint,
    private readonly session: Session,
    /** The app's database, as an administrator: where items are looked up. */
    private readonly client: pg.Client,
    run: string,
  ) {
    this.maker = new BatchMaker(endpoint, run);
    this.#spec = parseRequest(endpoint.request);
  }

  /**
   * Sends a batch; a time-out or a lost connection is a batch without an answer. After
   * UNANSWERED_LIMIT such batches in a row the app has stopped answering (a pool that leaks
   * on errors): the rest is not sent, each would only wait out its time-out (AppStopped).
   */
  async send(batch: Batch): Promise<Sent> {
    if (this.#unansweredInARow >= UNANSWERED_LIMIT) throw new AppStopped(this.endpoint.request);
    const started = performance.now();
    try {
      const answer = await this.session.send({ ...this.#spec, body: batch.body }, { batch: batch.id });
      this.#unansweredInARow = 0;
      return { batch, answer, ms: performance.now() - started };
    } catch (error) {
      this.#unansweredInARow++;
      const cause = (error as Error).cause as Error | undefined;
      return { batch, error: cause?.message ?? (error as Error).message, ms: performance.now() - started };
    }
  }

  /** Judges an answer against the table as it is now. */
  async judge(sent: Sent, wholeFailure: 'lost' | 'allowed' = 'lost'): Promise<void> {
    this.#checkAnswerShape(sent);
    const stored = await rowsByKey(
      this.client,
      this.endpoint,
      sent.batch.items.map((i) => i.key),
    );
    this.tally.judge(sent, stored, this.endpoint.report, wholeFailure);
  }

  async sendAndJudge(batch: Batch): Promise<Sent> {
    const sent = await this.send(batch);
    await this.judge(sent);
    return sent;
  }

  /**
   * An empty batch, before anything else: an endpoint that is not there (404, 405) is the
   * config's mistake, found before any item is sent. Anything else (a 400 for no items) is
   * an endpoint.
   */
  async probe(): Promise<void> {
    const sent = await this.send(this.maker.make('probe', 0));
    if (!sent.answer) throw new Error(`${this.endpoint.request} did not answer: ${sent.error}`);
    if (sent.answer.status === 404 || sent.answer.status === 405)
      throw new UsageError(
        `batch-fallback: ${this.endpoint.request} answered ${sent.answer.status} (${redact(JSON.stringify(sent.answer.body)).slice(0, 120)}): no batch endpoint there; set endpoints[].request`,
      );
  }

  /** Stores the item the unique kind conflicts with; refused when it was not stored (nothing would conflict). */
  async storeUniqueHolder(): Promise<void> {
    const sent = await this.send(this.maker.holder());
    const [item] = sent.batch.items;
    const rows = (await rowsByKey(this.client, this.endpoint, [item!.key])).get(item!.key) ?? 0;
    if (rows !== 1)
      throw new UsageError(
        `batch-fallback: ${this.endpoint.request}: a batch of one item with badItems.unique's fields stored ${rows} rows (${sent.answer ? `HTTP ${sent.answer.status}` : sent.error}); each bad unique item must conflict with it: check item and badItems.unique`,
      );
    await this.judge(sent);
  }

  /** The first answer with a 2xx status must hold the list the report names: else the report's options are wrong. */
  #checkAnswerShape(sent: Sent): void {
    if (this.#answerShapeChecked || !answeredOk(sent)) return;
    this.#answerShapeChecked = true;
    if (reportedOutcomes(sent.answer!.body, sent.batch, this.endpoint.report) === undefined)
      throw new UsageError(
        `batch-fallback: ${this.endpoint.request} answered ${sent.answer!.status} without a list at report.list '${this.endpoint.report.list}' (${redact(JSON.stringify(sent.answer!.body)).slice(0, 120)}); set report.list to where the items' outcomes are`,
      );
  }
}
