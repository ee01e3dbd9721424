import os from 'node:os';
import {
  RUN_SCHEMA_VERSION,
  withVerdicts,
  type EarlierAttempt,
  type LoadResult,
  type RunResult,
  type ShardRecord,
} from './run-result.ts';
import type { SuiteResult } from './schema.ts';
import type { RunDirectory } from './write.ts';
import { writeRunResult } from './writers/index.ts';
import { DBPROOF_VERSION } from '../version.ts';

/**
 * A run's results as they come in (`dbproof gate`, `dbproof test`): after every suite and
 * load, the run's files (summary.json, junit.xml, summary.md, report.html) are rewritten
 * atomically and marked incomplete, so an interrupted run leaves valid files that say so;
 * `finish` writes them complete.
 */
export class RunRecorder {
  readonly #startedAt = new Date().toISOString();
  readonly #environment: RunResult['environment'];
  readonly #share: Pick<RunResult, 'shard' | 'configHash'>;
  readonly suites: SuiteResult[] = [];
  readonly loads: LoadResult[] = [];
  readonly earlierAttempts: EarlierAttempt[] = [];
  #run: RunDirectory | undefined;

  /** `shard`: which share of the config the run is (`gate --shard`); `configHash`: the config's work (see runResultSchema). */
  constructor(target: { provider: string; app: string; shard?: ShardRecord; configHash?: string }) {
    this.#share = { shard: target.shard, configHash: target.configHash };
    this.#environment = {
      dbproof: DBPROOF_VERSION,
      node: process.version,
      platform: `${process.platform} ${os.arch()}`,
      cpus: os.cpus().length,
      provider: target.provider,
      app: target.app,
    };
  }

  /** The run's folder exists: the first (empty, incomplete) files go in. */
  async start(run: RunDirectory): Promise<void> {
    this.#run = run;
    await this.#write(true);
  }

  async addSuite(result: SuiteResult): Promise<void> {
    this.suites.push(result);
    await this.#write(true);
  }

  async addLoad(result: LoadResult): Promise<void> {
    this.loads.push(result);
    await this.#write(true);
  }

  /** Attempts run again because the machine was saturated: kept beside the ones that count. */
  async addEarlierAttempts(attempts: EarlierAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    this.earlierAttempts.push(...attempts);
    await this.#write(true);
  }

  async finish(): Promise<RunResult> {
    return this.#write(false);
  }

  snapshot(incomplete: boolean): RunResult {
    if (!this.#run) throw new Error('RunRecorder: start(run) first');
    return withVerdicts({
      schemaVersion: RUN_SCHEMA_VERSION,
      runId: this.#run.runId,
      startedAt: this.#startedAt,
      finishedAt: incomplete ? null : new Date().toISOString(),
      incomplete,
      environment: this.#environment,
      suites: this.suites,
      loads: this.loads,
      earlierAttempts: this.earlierAttempts,
      ...this.#share,
    });
  }

  async #write(incomplete: boolean): Promise<RunResult> {
    const run = this.snapshot(incomplete);
    await writeRunResult(this.#run!.dir, run);
    return run;
  }
}
