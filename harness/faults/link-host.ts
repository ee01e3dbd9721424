import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InfrastructureError } from '../errors.ts';
import type { FaultProxy } from './proxy.ts';
import { type NamedToxic, ToxicList } from './toxics.ts';

const HOST = fileURLToPath(new URL('./link-host.mjs', import.meta.url));

/** Bare `node` on a plain script starts in well under a second; this is for a machine under heavy load. */
const STARTUP_MS = 30_000;
/** How long the host may take to apply what it was sent: a round trip, ms on an idle machine. */
const SETTLE_MS = 15_000;
/** How long the host may take to close its proxies and exit when asked, before it is killed. */
const EXIT_MS = 5_000;

type Command =
  | { op: 'add'; proxy: number; toxic: NamedToxic }
  | { op: 'remove'; proxy: number; name: string }
  | { op: 'reset'; proxy: number }
  | { op: 'retarget'; proxy: number; upstream: { host: string; port: number } }
  | { op: 'close'; proxy: number };

interface Report {
  ready?: number[];
  synced?: number;
  connections?: Record<string, number>;
}

/**
 * A link host: a process of its own that runs fault proxies (one per upstream, in the order
 * given), so that the app's traffic to its databases never waits for dbproof's event loop.
 * Its `proxies` are `FaultProxy`s like the in-process one: their methods return at once and
 * keep the toxics here; the host applies each change, in order, a moment later, and
 * `settled()` resolves once it has applied everything sent so far. The host ends with this
 * process however it ends (its stdin and IPC channel close), and on `close()`.
 */
export interface LinkHost {
  readonly pid: number;
  readonly proxies: readonly FaultProxy[];
  /** Resolves once the host has applied every change sent so far; rejects if it is gone. */
  settled(): Promise<void>;
  /** Closes every proxy and ends the host; resolves once the process is gone. */
  close(): Promise<void>;
}

/** The hosts of this process that have not been closed (nor died). */
const running = new Set<Host>();
let exitHookInstalled = false;

/**
 * Resolves once every link host of this process has applied every change sent to it: after a
 * fault is applied, the moment it is in effect. Rejects if a host with changes pending is gone.
 */
export async function settleLinkHosts(): Promise<void> {
  await Promise.all([...running].map((host) => host.settled()));
}

/** Starts a link host with a proxy on 127.0.0.1 in front of each upstream; resolves when all of them listen. */
export async function startLinkHost(
  upstreams: readonly { host?: string; port: number; seed?: number }[],
): Promise<LinkHost> {
  const targets = upstreams.map((u) => ({ host: u.host ?? '127.0.0.1', port: u.port, seed: u.seed ?? 1 }));
  const child = fork(HOST, [JSON.stringify({ proxies: targets })], {
    // stdin: the pipe that ends the host with this process; stderr: what it says when it fails.
    stdio: ['pipe', 'ignore', 'pipe', 'ipc'],
    // Not this process's flags (a TypeScript loader, an inspector): plain node starts fastest.
    execArgv: [],
    serialization: 'json',
  });
  const host = new Host(child, targets);
  await host.ready;
  return host;
}

class Host implements LinkHost {
  readonly #child: ChildProcess;
  readonly ready: Promise<void>;
  proxies: FaultProxy[] = [];
  #stderr = '';
  #counts: number[];
  /** Changes sent; a `sync` for n is answered once the first n are applied. */
  #sent = 0;
  #syncAsked = 0;
  #synced = 0;
  #waiters: { seq: number; resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout }[] = [];
  #lost: InfrastructureError | undefined;
  #closing = false;
  readonly #exited: Promise<void>;
  readonly #open: Set<number>;

  constructor(child: ChildProcess, targets: { host: string; port: number }[]) {
    this.#child = child;
    this.#counts = targets.map(() => 0);
    this.#open = new Set(targets.keys());
    child.stdin!.on('error', () => {});
    child.stderr!.on('data', (chunk) => {
      this.#stderr = (this.#stderr + chunk).slice(-2000);
    });
    let exited!: () => void;
    this.#exited = new Promise((resolve) => (exited = resolve));
    this.ready = new Promise((resolve, reject) => {
      let started = false;
      const cannot = (why: string) => {
        if (started) return;
        started = true;
        clearTimeout(deadline);
        child.kill('SIGKILL');
        reject(
          new InfrastructureError(
            `the link host (the fault proxies between the app and its databases) could not start (${why}): it runs ${HOST} with this Node.js (${process.execPath})`,
          ),
        );
      };
      const deadline = setTimeout(() => cannot(`no answer within ${STARTUP_MS / 1000} s`), STARTUP_MS);
      child.on('error', (error) => cannot(error.message));
      // 'close': the process has ended and its stderr has been read to the end.
      child.once('close', (code, signal) => {
        exited();
        if (!started) return cannot(`it exited with ${signal ?? `code ${code}`}${this.#said()}`);
        this.#gone(signal ?? `exit code ${code}`);
      });
      child.on('message', (report: Report) => {
        if (report.ready && !started) {
          started = true;
          clearTimeout(deadline);
          this.proxies = report.ready.map((port, i) => this.#proxy(i, port, targets[i]!));
          running.add(this);
          if (!exitHookInstalled) {
            exitHookInstalled = true;
            // Belt and braces: the host's stdin closes when this process goes anyway.
            process.once('exit', () => {
              for (const host of running) host.#child.kill('SIGKILL');
            });
          }
          resolve();
        }
        if (report.synced !== undefined) this.#confirm(report.synced);
        if (report.connections)
          for (const [i, open] of Object.entries(report.connections)) this.#counts[Number(i)] = open;
      });
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  settled(): Promise<void> {
    if (this.#lost) return Promise.reject(this.#lost);
    const seq = this.#sent;
    if (this.#synced >= seq || this.#closing) return Promise.resolve();
    if (this.#syncAsked < seq) {
      this.#child.send({ op: 'sync', seq });
      this.#syncAsked = seq;
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        seq,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(
            new InfrastructureError(
              `the link host (pid ${this.pid}) did not apply the fault proxies' changes within ${SETTLE_MS / 1000} s`,
            ),
          );
        }, SETTLE_MS),
      };
      this.#waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      running.delete(this);
      // Asked to close its proxies and exit; killed if it does not in time (or cannot be asked).
      if (this.#child.connected) this.#child.send({ op: 'exit' });
      else this.#child.kill('SIGKILL');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), EXIT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#exited;
  }

  /** What the host said on stderr, as `: line`, or nothing: its own last line, or an uncaught error's message. */
  #said(): string {
    const lines = this.#stderr
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !/^Node\.js v\d/.test(line));
    const line = lines.filter((l) => /^[\w.]*Error\b[^:]*:/.test(l)).at(-1) ?? lines.at(-1);
    return line ? `: ${line}` : '';
  }

  #gone(how: string): void {
    running.delete(this);
    if (!this.#closing)
      this.#lost = new InfrastructureError(
        `the link host (pid ${this.pid}: the fault proxies between the app and its databases) died mid-run (${how})${this.#said()}`,
      );
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      if (this.#lost) waiter.reject(this.#lost);
      else waiter.resolve();
    }
  }

  #confirm(seq: number): void {
    this.#synced = Math.max(this.#synced, seq);
    const done = this.#waiters.filter((w) => w.seq <= this.#synced);
    this.#waiters = this.#waiters.filter((w) => w.seq > this.#synced);
    for (const waiter of done) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  /** Throws when the host died: a change could not take effect. */
  #usable(): void {
    if (this.#lost) throw this.#lost;
    if (!this.#closing && !this.#child.connected)
      throw new InfrastructureError(`the link host (pid ${this.pid}) is gone: its IPC channel is closed`);
  }

  /** Sends a change (none once the links are closed: as with a closed in-process proxy, it has no effect). */
  #send(command: Command): void {
    if (this.#closing) return;
    this.#child.send(command);
    this.#sent++;
  }

  async #closeProxy(i: number): Promise<void> {
    if (!this.#open.delete(i) || this.#lost) return;
    if (this.#open.size === 0) return this.close();
    this.#send({ op: 'close', proxy: i });
    await this.settled();
  }

  #proxy(i: number, port: number, initial: { host: string; port: number }): FaultProxy {
    let upstream = { ...initial };
    const toxics = new ToxicList();
    return {
      port,
      addToxic: (toxic) => {
        this.#usable();
        const named = toxics.add(toxic);
        this.#send({ op: 'add', proxy: i, toxic: named });
        return named.name;
      },
      removeToxic: (name) => {
        this.#usable();
        toxics.remove(name);
        this.#send({ op: 'remove', proxy: i, name });
      },
      reset: () => {
        this.#usable();
        toxics.clear();
        this.#send({ op: 'reset', proxy: i });
      },
      toxics: () => toxics.active,
      connections: () => this.#counts[i]!,
      get upstream() {
        return { ...upstream };
      },
      retarget: (next) => {
        this.#usable();
        upstream = { host: next.host ?? '127.0.0.1', port: next.port };
        this.#send({ op: 'retarget', proxy: i, upstream });
      },
      settled: () => this.settled(),
      close: () => this.#closeProxy(i),
    };
  }
}
