// The fault proxy itself: a TCP proxy on 127.0.0.1 between an app and a node, with
// Toxiproxy's toxics (latency, bandwidth, timeout, reset_peer, slow_close; harness/faults/toxics.ts
// says what each does). It runs in the link host (link-host.mjs, a process of its own, so
// dbproof's busy event loop never becomes the app's query latency) and, for tests and the
// benchmark, in-process behind `startFaultProxy` (proxy.ts).
//
// Plain JavaScript on purpose: bare `node` starts the link host in tens of ms, with no
// TypeScript loader. Its types are in proxy-core.d.mts. It takes toxics already named
// (ToxicList in toxics.ts); names and duplicates are its owner's business.
import net from 'node:net';

/** One direction of one connection: a queue that toxics delay, pace, hold or cut. */
class Pipe {
  /** @type {{ chunk: Buffer; releaseAt: number }[]} */
  #queue = [];
  /** @type {NodeJS.Timeout | undefined} */
  #timer;
  #nextSendAt = 0;
  #ended = false;

  constructor(direction, from, to, toxics, random) {
    this.direction = direction;
    this.to = to;
    this.toxics = toxics;
    this.random = random;
    from.on('data', (chunk) => {
      const latency = this.#of('latency');
      const delay = latency ? latency.latency + (latency.jitter ? (this.random() * 2 - 1) * latency.jitter : 0) : 0;
      this.#queue.push({ chunk, releaseAt: performance.now() + Math.max(0, delay) });
      this.pump();
    });
    from.on('end', () => {
      this.#ended = true;
      this.pump();
    });
  }

  #of(type) {
    return this.toxics().find((t) => t.type === type && t.direction === this.direction);
  }

  /** Sends what may be sent now; schedules itself for what must wait. */
  pump() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#of('timeout')) return; // a black hole holds everything (released when the toxic goes)
    const now = performance.now();
    while (this.#queue.length > 0) {
      const next = this.#queue[0];
      const bandwidth = this.#of('bandwidth');
      const due = Math.max(next.releaseAt, bandwidth ? this.#nextSendAt : 0);
      if (due > now) {
        // Timers count whole ms and may fire a fraction early: pump checks again and waits the rest.
        this.#timer = setTimeout(() => this.pump(), Math.ceil(due - now));
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

  stop() {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/**
 * Starts a proxy on 127.0.0.1 (`options.port`, or any free port) to `initialUpstream`.
 * `options.seed` seeds the jitter (a small LCG, so a fault schedule replays the same way);
 * `options.onConnections` hears the number of open client connections whenever it changes.
 */
export async function startProxyCore(initialUpstream, options = {}) {
  let upstream = { host: initialUpstream.host ?? '127.0.0.1', port: initialUpstream.port };
  /** @type {readonly import('./toxics.ts').NamedToxic[]} */
  let toxics = [];
  const pairs = new Set();
  let state = options.seed ?? 1;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const counted = () => options.onConnections?.(pairs.size);

  const applyConnectionToxics = (pair, only = toxics) => {
    for (const toxic of only) {
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
    const pair = { client, server: upstreamSocket, pipes: [], timers: [] };
    pair.pipes = [
      new Pipe('upstream', client, upstreamSocket, () => toxics, random),
      new Pipe('downstream', upstreamSocket, client, () => toxics, random),
    ];
    pairs.add(pair);
    counted();
    applyConnectionToxics(pair);
    const teardown = () => {
      for (const timer of pair.timers) clearTimeout(timer);
      for (const pipe of pair.pipes) pipe.stop();
      client.destroy();
      upstreamSocket.destroy();
      if (pairs.delete(pair)) counted();
    };
    // slow_close: whichever side closes first, the close reaches the other only after the
    // delay (which side goes first is a race the app does not control: a Terminate
    // message makes the server close at about the time the client does).
    let closing = false;
    const closeAfterDelay = () => {
      if (closing) return;
      closing = true;
      const slow = toxics.find((t) => t.type === 'slow_close');
      if (slow) pair.timers.push(setTimeout(teardown, slow.delay));
      else teardown();
    };
    client.on('error', teardown);
    upstreamSocket.on('error', teardown);
    client.on('close', closeAfterDelay);
    upstreamSocket.on('close', closeAfterDelay);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const repump = () => {
    for (const pair of pairs) for (const pipe of pair.pipes) pipe.pump();
  };

  return {
    port: server.address().port,
    add(named) {
      toxics = [...toxics, named];
      // Connection-level toxics hit the open connections too.
      if (named.type === 'reset_peer' || (named.type === 'timeout' && named.timeout > 0))
        for (const pair of pairs) applyConnectionToxics(pair, [named]);
      repump();
    },
    remove(name) {
      toxics = toxics.filter((t) => t.name !== name);
      repump();
    },
    reset() {
      toxics = [];
      repump();
    },
    connections: () => pairs.size,
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
          for (const timer of pair.timers) clearTimeout(timer);
          pair.client.destroy();
          pair.server.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
