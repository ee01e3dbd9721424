/**
 * The shapes every provider shares. Nothing outside `harness/providers/` knows
 * which provider started a topology: suites, the CLI and the vitest helper only
 * see these interfaces.
 */
import type { RecoveryControl } from './recovery.ts';
import type { ProviderName } from './spec.ts';

// What to start is defined once, by its schema (spec.ts): the types are derived there.
export type { ExternalUrls, ProviderName, TopologySpec } from './spec.ts';

export type PgRole = 'primary' | 'replica';

/** Operations that change a node's process; an external node refuses them with a clear error. */
export interface ProcessControl {
  /** SIGKILL: the host died. Nothing is flushed, nothing is shut down cleanly. */
  kill(): Promise<void>;
  /** A clean shutdown. */
  stop(): Promise<void>;
  /** Start again after kill() or stop(); resolves when it accepts connections. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP of the whole process group: a frozen host that still holds its sockets open. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): Promise<void>;
  /** The PID of the node's main process, when running under dbproof's control. */
  readonly pid: number | undefined;
}

export interface PgNode extends ProcessControl {
  /** `primary`, `replica1`, `replica2`, … — also the replica's `application_name`. */
  readonly name: string;
  /** The role as dbproof last set or saw it; `isInRecovery()` asks the server. */
  readonly role: PgRole;
  /** The `app` role's URL (what the system under test gets). Contains the password. */
  readonly url: string;
  /** The superuser URL (what dbproof itself uses). Contains the password. */
  readonly adminUrl: string;
  readonly port: number;
  /** Turn this replica into a primary (`pg_promote`); resolves when it accepts writes. */
  promote(): Promise<void>;
  isInRecovery(): Promise<boolean>;
  /** Bytes of WAL the primary has written that this replica has not replayed yet (0 on a primary). */
  lagBytes(): Promise<number>;
  /** Resolves when this replica has replayed everything the primary had written at the call. */
  waitForCatchup(timeoutMs?: number): Promise<void>;
  /**
   * The server's log (what Postgres writes to stderr), where the provider can read it: native
   * (the node's log file) and containers (the container's log); absent on an external cluster.
   */
  readonly serverLog?: ServerLog;
}

/** A node's server log read from a mark on: what the server logged while a check ran. */
export interface ServerLog {
  /** Where the log ends now (a byte offset, or a time): pass it to `since`. */
  mark(): Promise<number>;
  /** Everything the server logged after `mark`. */
  since(mark: number): Promise<string>;
}

export interface RedisNode extends ProcessControl {
  readonly name: 'redis';
  /** `redis://:password@127.0.0.1:port`. */
  readonly url: string;
  readonly port: number;
}

export interface Topology {
  readonly provider: ProviderName;
  readonly primary: PgNode;
  readonly replicas: PgNode[];
  readonly redis: RedisNode | undefined;
  /** Superuser URL of the primary (`DBPROOF_ADMIN_URL`). */
  readonly adminUrl: string;
  /** PIDs of every process this topology started and still runs. */
  pids(): number[];
  /**
   * Command names of shared processes that do this topology's work without being its own
   * (a container engine's daemons and port proxies): the noise monitor counts their CPU as
   * the topology's, not as someone else's load on the machine.
   */
  readonly workedOnBy?: readonly string[];
  /** What `up --json` prints and the state file keeps. */
  describe(): TopologyDescription;
  /** Stops every process and removes every directory the topology made. Idempotent. */
  stop(): Promise<void>;
  /** Present where the provider can keep a seeded data directory across runs (native). */
  readonly seedCache?: SeedCacheControl;
  /** Present where the provider can archive WAL, take a base backup and restore it into a fresh node (native). */
  readonly recovery?: RecoveryControl;
}

export interface SeedCacheControl {
  /** True when this topology started from the cache entry named by `postgres.seedCacheKey`. */
  readonly hit: boolean;
  /** Keeps the primary's current data (seeded) under `key` for later runs. */
  store(key: string): Promise<void>;
}

/** The connection URLs of a topology (app role), as printed by `dbproof up --json`. */
export interface TopologyUrls {
  primary: string;
  replicas: string[];
  redis: string | null;
  admin: string;
}

export interface NodeDescription {
  name: string;
  kind: 'postgres' | 'redis';
  port: number;
  url: string;
  /** Where the node keeps its PID file (`postmaster.pid` / `redis.pid`), for `status`. */
  pidFile?: string;
  /** The node's container (provider 'containers'). */
  container?: string;
}

export interface TopologyDescription extends TopologyUrls {
  provider: ProviderName;
  pids: number[];
  nodes: NodeDescription[];
}
