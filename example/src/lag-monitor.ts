import pg from 'pg';

/** `16/B374D848` as a number of bytes (BigInt: LSNs exceed 2^53 in long-lived clusters). */
export function parseLsn(lsn: string): bigint {
  const [high, low] = lsn.split('/') as [string, string];
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/**
 * How far behind each replica is, in time: every `intervalMs` the primary's WAL position
 * is sampled, and a replica's lag is how long ago the primary was where the replica's
 * replay is now. A replica whose replay is paused falls behind while writes continue;
 * one that cannot be asked is treated as behind as well.
 */
export class LagMonitor {
  readonly #history: { at: number; lsn: bigint }[] = [];
  readonly #replayed: ({ at: number; lsn: bigint } | undefined)[];
  readonly #timer: NodeJS.Timeout;
  readonly #pools: pg.Pool[];
  /** Per pool: a question still unanswered. */
  readonly #asking: boolean[];

  constructor(
    primaryUrl: string,
    replicaUrls: string[],
    private readonly intervalMs: number,
  ) {
    this.#replayed = replicaUrls.map(() => undefined);
    // WAL positions are the cluster's, not a database's: the monitor asks from the `postgres`
    // database, so its polling never mixes with the app's own statements (which dbproof's
    // black-box N+1 check attributes per database).
    const maintenance = (url: string) => Object.assign(new URL(url), { pathname: '/postgres' }).toString();
    const pool = (url: string) => {
      const p = new pg.Pool({
        connectionString: maintenance(url),
        max: 1,
        // A connection is made once and kept (idleTimeoutMillis 0); making it takes a SCRAM
        // exchange, over 300 ms on a busy machine. At 300 ms, 17 instances on 2 cores gave up
        // and retried every 100 ms, each try a forked backend: the machine melted (load 37,
        // half of it in the kernel) and no request was answered (dbproof's CI).
        connectionTimeoutMillis: 3000,
        query_timeout: 300,
        idleTimeoutMillis: 0,
      });
      p.on('error', () => {});
      p.on('connect', (client) => client.on('error', () => {}));
      return p;
    };
    this.#pools = [pool(primaryUrl), ...replicaUrls.map(pool)];
    this.#asking = this.#pools.map(() => false);
    this.#timer = setInterval(() => void this.sample(), intervalMs);
    this.#timer.unref();
    void this.sample();
  }

  /**
   * Asks every node for its WAL position. Each node one question at a time: a node whose
   * last answer has not come (frozen, black-holed, still connecting) is skipped, and never
   * holds up the others' samples.
   */
  async sample(): Promise<void> {
    const at = Date.now();
    await Promise.all(
      this.#pools.map(async (pool, i) => {
        if (this.#asking[i]) return;
        this.#asking[i] = true;
        try {
          const sql =
            i === 0 ? 'SELECT pg_current_wal_lsn()::text AS lsn' : 'SELECT pg_last_wal_replay_lsn()::text AS lsn';
          const lsn = await pool.query<{ lsn: string | null }>(sql).then(
            (r) => (r.rows[0]?.lsn ? parseLsn(r.rows[0].lsn) : undefined),
            () => undefined,
          );
          if (lsn === undefined) return;
          if (i > 0) {
            this.#replayed[i - 1] = { at, lsn };
            return;
          }
          this.#history.push({ at, lsn });
          while (this.#history.length > 0 && this.#history[0]!.at < at - 30_000) this.#history.shift();
        } finally {
          this.#asking[i] = false;
        }
      }),
    );
  }

  /** The replica's lag in ms (Infinity when it has not answered for a while). */
  lagMs(replica: number): number {
    const replayed = this.#replayed[replica];
    const now = Date.now();
    if (!replayed || now - replayed.at > this.intervalMs * 5) return Infinity;
    // The first time the primary was beyond the replayed position: the replica is missing everything since.
    const firstAhead = this.#history.find((h) => h.lsn > replayed.lsn && h.at <= replayed.at);
    return firstAhead ? replayed.at - firstAhead.at + (now - replayed.at) : 0;
  }

  /** True when the replica has replayed `lsn` as of its last sample. */
  hasReplayed(replica: number, lsn: bigint): boolean {
    const replayed = this.#replayed[replica];
    return replayed !== undefined && replayed.lsn >= lsn;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#pools.map((p) => p.end().catch(() => {})));
  }
}
