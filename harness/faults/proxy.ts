import { startProxyCore } from './proxy-core.mjs';
import { type NamedToxic, type Toxic, ToxicList } from './toxics.ts';

export type { Direction, NamedToxic, Toxic } from './toxics.ts';

/**
 * A TCP fault proxy that sits between an app and a node, with Toxiproxy's vocabulary,
 * so that the same fault names work where a Toxiproxy server runs. Toxics apply to open
 * connections and new ones alike, as they are added and removed.
 *
 * A run's proxies live in a link host, a process of their own (`startLinkHost`,
 * link-host.ts), so that dbproof's busy event loop never delays the app's queries;
 * `startFaultProxy` runs one in this process (tests, the benchmark's comparison).
 */
export interface FaultProxy {
  /** Where the app connects instead of the node: 127.0.0.1:port. */
  readonly port: number;
  addToxic(toxic: Toxic): string;
  removeToxic(name: string): void;
  /** Removes every toxic. */
  reset(): void;
  toxics(): readonly NamedToxic[];
  /**
   * Open client connections. In a link host: the last count it reported (it reports each
   * change as it happens), so a connection just opened or closed may show a moment later.
   */
  connections(): number;
  /** Where new connections go (a writer endpoint re-pointed on promotion). */
  readonly upstream: { host: string; port: number };
  /**
   * Sends new connections to `upstream` from now on and closes the open ones, as HAProxy
   * does with `on-marked-down shutdown-sessions`: an app must not keep writing to a
   * node that is no longer the primary.
   */
  retarget(upstream: { host?: string; port: number }): void;
  /**
   * Resolves once every change made so far (toxics, retarget) is in effect. The methods
   * above return at once; in a link host the change takes effect when the host has read it.
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy in this process, on 127.0.0.1, to `upstream`. */
export async function startFaultProxy(
  initialUpstream: { host?: string; port: number },
  options: { port?: number; seed?: number } = {},
): Promise<FaultProxy> {
  let upstream = { host: initialUpstream.host ?? '127.0.0.1', port: initialUpstream.port };
  const toxics = new ToxicList();
  const core = await startProxyCore(upstream, options);
  return {
    port: core.port,
    addToxic(toxic) {
      const named = toxics.add(toxic);
      core.add(named);
      return named.name;
    },
    removeToxic(name) {
      toxics.remove(name);
      core.remove(name);
    },
    reset() {
      toxics.clear();
      core.reset();
    },
    toxics: () => toxics.active,
    connections: () => core.connections(),
    get upstream() {
      return { ...upstream };
    },
    retarget(next) {
      upstream = { host: next.host ?? '127.0.0.1', port: next.port };
      core.retarget(upstream);
    },
    settled: async () => {},
    close: () => core.close(),
  };
}
