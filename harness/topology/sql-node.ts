import { DbproofError } from '../errors.ts';
import { lagBehind, promoteAndWait, queryRecovery, waitForReplayed } from './replication.ts';
import type { PgNode, PgRole } from './types.ts';

/**
 * What every Postgres node does in SQL, whoever runs its process: promotion,
 * recovery state, lag and catch-up against the node it streams from. Providers extend
 * it with the process-level operations.
 */
export abstract class SqlPgNode {
  #role: PgRole;

  constructor(
    readonly name: string,
    role: PgRole,
    readonly adminUrl: string,
    private readonly upstream: () => PgNode | undefined,
  ) {
    this.#role = role;
  }

  get role(): PgRole {
    return this.#role;
  }

  async promote(): Promise<void> {
    if (this.#role === 'primary' && !(await this.isInRecovery()))
      throw new DbproofError(`${this.name} is already a primary`);
    await promoteAndWait(this.adminUrl);
    this.#role = 'primary';
  }

  isInRecovery(): Promise<boolean> {
    return queryRecovery(this.adminUrl);
  }

  async lagBytes(): Promise<number> {
    const upstream = this.upstream();
    if (this.#role === 'primary' || !upstream) return 0;
    return lagBehind(upstream.adminUrl, this.adminUrl, await this.applicationName());
  }

  async waitForCatchup(timeoutMs = 30_000): Promise<void> {
    const upstream = this.upstream();
    if (this.#role === 'primary' || !upstream) return;
    await waitForReplayed(upstream.adminUrl, this.adminUrl, await this.applicationName(), timeoutMs);
  }

  /** The name the standby streams under (its application_name); dbproof's nodes use their own name. */
  protected async applicationName(): Promise<string> {
    return this.name;
  }
}
