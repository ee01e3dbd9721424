import net from 'node:net';
import { DbproofError } from '../errors.ts';

/**
 * A TCP fault proxy that sits between an app and a node, with Toxiproxy's vocabulary,
 * so that the same fault names work where a Toxiproxy server runs. Toxics apply to open
 * connections and new ones alike, as they are added and removed.
 */
export type Direction = 'upstream' | 'downstream';

export type Toxic =
  /** Delays data by `latency` ms ± `jitter` ms (order kept). */
  | { type: 'latency'; name?: string; direction?: Direction; latency: number; jitter?: number }
  /** Limits throughput to `rate` KB/s. */
  | { type: 'bandwidth'; name?: string; direction?: Direction; rate: number }
  /** Lets no data through (a black hole); closes the connection after `timeout` ms, never when 0. */
  | { type: 'timeout'; name?: string; direction?: Direction; timeout: number }
  /** Resets the connection (TCP RST) `timeout` ms after the toxic applies to it. */
  | { type: 'reset_peer'; name?: string; direction?: Direction; timeout: number }
  /** Delays the close of a connection by `delay` ms, whichever side closes first. */
  | { type: 'slow_close'; name?: string; direction?: Direction; delay: number };

type NamedToxic = Toxic & { name: string; direction: Direction };

interface Pending {
  chunk: Buffer;
  releaseAt: number;
}

/** One direction of one connection: a queue that toxics delay, pace, hold or cut. */
class Link {
  readonly #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #nextSendAt = 0;
  #ended = false;

  constructor(
    readonly direction: Direction,
    from: net.Socket,
    private readonly to: net.Socket,
    private readonly toxics: () => NamedToxic[],
    private readonly random: () => number,
  ) {
    from.on('data', (chunk: Buffer) => {
      const latency = this.#of('latency');
      const delay = latency ? latency.latency + (latency.jitter ? (this.random() * 2 - 1) * latency.jitter : 0) : 0;
      this.#queue.push({ chunk, releaseAt: Date.now() + Math.max(0, delay) });
      this.pump();
    });
    from.on('end', () => {
      this.#ended = true;
      this.pump();
    });
  }

  #of<T extends Toxic['type']>(type: T): Extract<NamedToxic, { type: T }> | undefined {
    return this.toxics().find((t) => t.type === type && t.direction === this.direction) as
      | Extract<NamedToxic, { type: T }>
      | undefined;
  }

  /** Sends what may be sent now; schedules itself for what must wait. */
  pump(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#of('timeout')) return; // a black hole holds everything (released when the toxic goes)
    const now = Date.now();
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      const bandwidth = this.#of('bandwidth');
      const due = Math.max(next.releaseAt, bandwidth ? this.#nextSendAt : 0);
      if (due > now) {
        this.#timer = setTimeout(() => this.pump(), due - now);
        return;
      }
      this.#queue.shift();
      if (bandwidth)
        this.#nextSendAt = Math.max(now, this.#nextSendAt) + (next.chunk.length / (bandwidth.rate * 1024)) * 1000;
      if (!this.to.destroyed) this.to.write(next.chunk);
    }
    if (this.#ended && !this.to.destroyed) {
      const slowClose = this.#of('slow_close');
      if (slowClose) this.#timer = setTimeout(() => this.to.end(), slowClose.delay);
      else this.to.end();
      this.#ended = false;
    }
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

export interface FaultProxy {
  /** Where the app connects instead of the node: 127.0.0.1:port. */
  readonly port: number;
  addToxic(toxic: Toxic): string;
  removeToxic(name: string): void;
  /** Removes every toxic. */
  reset(): void;
  toxics(): readonly NamedToxic[];
  /** Open client connections. */
  connections(): number;
  /** Where new connections go (a writer endpoint re-pointed on promotion). */
  readonly upstream: { host: string; port: number };
  /**
   * Sends new connections to `upstream` from now on and closes the open ones, as HAProxy
   * does with `on-marked-down shutdown-sessions`: an app must not keep writing to a
   * node that is no longer the primary.
   */
  retarget(upstream: { host?: string; port: number }): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 to `upstream`. */
export async function startFaultProxy(
  initialUpstream: { host?: string; port: number },
  options: { port?: number; seed?: number } = {},
): Promise<FaultProxy> {
  let upstream = { host: initialUpstream.host ?? '127.0.0.1', port: initialUpstream.port };
  let toxics: NamedToxic[] = [];
  const pairs = new Set<{ client: net.Socket; server: net.Socket; links: Link[]; timers: NodeJS.Timeout[] }>();
  let state = options.seed ?? 1;
  // Deterministic jitter: a small LCG, so a fault schedule replays the same way.
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };

  const applyConnectionToxics = (pair: { client: net.Socket; server: net.Socket; timers: NodeJS.Timeout[] }) => {
    for (const toxic of toxics) {
      if (toxic.type === 'reset_peer')
        pair.timers.push(
          setTimeout(() => {
            pair.client.resetAndDestroy();
            pair.server.destroy();
          }, toxic.timeout),
        );
      if (toxic.type === 'timeout' && toxic.timeout > 0)
        pair.timers.push(
          setTimeout(() => {
            pair.client.destroy();
            pair.server.destroy();
          }, toxic.timeout),
        );
    }
  };

  const server = net.createServer((client) => {
    const upstreamSocket = net.connect(upstream.port, upstream.host);
    const pair = { client, server: upstreamSocket, links: [] as Link[], timers: [] as NodeJS.Timeout[] };
    pair.links = [
      new Link('upstream', client, upstreamSocket, () => toxics, random),
      new Link('downstream', upstreamSocket, client, () => toxics, random),
    ];
    pairs.add(pair);
    applyConnectionToxics(pair);
    const teardown = () => {
      pair.timers.forEach(clearTimeout);
      for (const link of pair.links) link.stop();
      client.destroy();
      upstreamSocket.destroy();
      pairs.delete(pair);
    };
    // slow_close: whichever side closes first, the close reaches the other only after the
    // delay (which side goes first is a race the app does not control: a Terminate
    // message makes the server close at about the time the client does).
    let closing = false;
    const closeAfterDelay = () => {
      if (closing) return;
      closing = true;
      const slow = toxics.find((t) => t.type === 'slow_close') as { delay: number } | undefined;
      if (slow) pair.timers.push(setTimeout(teardown, slow.delay));
      else teardown();
    };
    client.on('error', teardown);
    upstreamSocket.on('error', teardown);
    client.on('close', closeAfterDelay);
    upstreamSocket.on('close', closeAfterDelay);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let counter = 0;
  const repump = () => {
    for (const pair of pairs) for (const link of pair.links) link.pump();
  };

  return {
    port,
    addToxic(toxic) {
      const name = toxic.name ?? `${toxic.type}_${toxic.direction ?? 'downstream'}_${++counter}`;
      if (toxics.some((t) => t.name === name))
        throw new DbproofError(`a toxic named ${name} is already active; remove it first`);
      const named = { ...toxic, name, direction: toxic.direction ?? 'downstream' } as NamedToxic;
      toxics = [...toxics, named];
      // Connection-level toxics hit the open connections too.
      if (named.type === 'reset_peer' || (named.type === 'timeout' && named.timeout > 0)) {
        const only = toxics;
        toxics = [named];
        pairs.forEach(applyConnectionToxics);
        toxics = only;
      }
      repump();
      return name;
    },
    removeToxic(name) {
      toxics = toxics.filter((t) => t.name !== name);
      repump();
    },
    reset() {
      toxics = [];
      repump();
    },
    toxics: () => toxics,
    connections: () => pairs.size,
    get upstream() {
      return { ...upstream };
    },
    retarget(next) {
      upstream = { host: next.host ?? '127.0.0.1', port: next.port };
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const pair of pairs) {
          pair.timers.forEach(clearTimeout);
          pair.client.destroy();
          pair.server.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
