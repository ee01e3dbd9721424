/**
 * The open model on a fixed set of connections, as wrk2 (Gil Tene's coordinated-omission
 * corrected wrk) runs it. Request `i` is due at `i / rate` seconds and belongs to connection
 * `i mod connections`, so each connection has a constant-rate schedule of its own. A
 * connection sends its next request as soon as that request is due and the connection is
 * free; a request that falls due while its connection is still busy waits, and its latency
 * still counts from its due time. No connection is ever opened because a server is slow:
 * the server, not the generator, stays the bottleneck.
 */
export interface ConnectionScheduleOptions {
  rate: number;
  durationMs: number;
  connections: number;
  /** A request not answered this long after it was sent is aborted and fails. */
  timeoutMs: number;
  /** The start, a `performance.now()` value (default: now): request 0 is due then. */
  origin?: number;
  /**
   * Sends request `index` on connection `connection` and calls `done` once: true when
   * answered as expected, false when it failed. A callback, not a promise: at tens of
   * thousands of requests per second, every allocation per request is the engine's time.
   */
  send(connection: number, index: number, done: (ok: boolean) => void): void;
  /** Aborts the request in flight on `connection` (its time-out, or the load's deadline): its `done(false)` follows. */
  abort(connection: number): void;
  /** Each request as it falls due, `lateMs` after its due time: the engine's own lateness (its timer, its loop). */
  onDue?(due: number, lateMs: number): void;
  /** Each request's outcome; latency from its due time. */
  onResult(index: number, due: number, latencyMs: number, ok: boolean): void;
}

export interface ConnectionScheduleOutcome {
  /** Requests due that were sent. */
  sent: number;
  /**
   * Requests due during the load that were never sent: their connection stayed busy until
   * the load's deadline (its duration and one time-out). Each was reported failed.
   */
  unsent: number;
  /** Requests that waited more than `WAITED_MS` for their connection: more connections would have sent them on time. */
  waited: number;
}

/** A request that waited longer than this for its connection counts in `waited`. */
export const WAITED_MS = 10;

/**
 * Node's timers fire on whole milliseconds: a request due between two ticks is taken up to
 * 1 ms after its due time with its connection free and the server idle for it. That slack
 * is the timer's, not the server's, so such a request is timed from when it was sent. Any
 * other request (its connection busy, or the engine later than this) is timed from its due
 * time: the wait is the server's doing, or shows as the engine's own lateness.
 */
export const TIMER_SLACK_MS = 1;

interface Connection {
  /** The next index this connection sends: its schedule is `k, k + connections, …`. */
  next: number;
  busy: boolean;
  sentAt: number;
  /** Counts the connection's requests, so a late `done` of an abandoned one is told apart. */
  serial: number;
}

export function runConnectionSchedule(options: ConnectionScheduleOptions): Promise<ConnectionScheduleOutcome> {
  const interval = 1000 / options.rate;
  const total = Math.floor((options.durationMs / 1000) * options.rate);
  const count = Math.max(1, Math.min(options.connections, total));
  const started = options.origin ?? performance.now();
  const elapsed = () => performance.now() - started;
  const connections: Connection[] = Array.from({ length: count }, (_, k) => ({
    next: k,
    busy: false,
    sentAt: 0,
    serial: 0,
  }));
  /** Every index below this is due (and was announced); the pump moves it on. */
  let due = 0;
  let finished = 0;
  const outcome: ConnectionScheduleOutcome = { sent: 0, unsent: 0, waited: 0 };
  let pumpTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let resolveAll!: () => void;
  const done = new Promise<void>((resolve) => (resolveAll = resolve));
  const check = () => {
    if (finished >= total) {
      clearTimeout(pumpTimer);
      clearInterval(sweepTimer);
      clearTimeout(deadlineTimer);
      resolveAll();
    }
  };

  const send = (k: number, onTime = false) => {
    const connection = connections[k]!;
    const index = connection.next;
    connection.next += count;
    connection.busy = true;
    const dueAt = index * interval;
    const now = elapsed();
    if (now - dueAt > WAITED_MS) outcome.waited++;
    const from = onTime && now - dueAt <= TIMER_SLACK_MS ? now : dueAt;
    outcome.sent++;
    connection.sentAt = now;
    const serial = ++connection.serial;
    const settle = (ok: boolean) => {
      if (!connection.busy || connection.serial !== serial) return; // reported once only
      connection.busy = false;
      finished++;
      options.onResult(index, dueAt, elapsed() - from, ok);
      if (connection.next < due) send(k);
      else check();
    };
    try {
      options.send(k, index, settle);
    } catch {
      settle(false);
    }
  };

  // Announces what has fallen due and hands each due request to its connection if free.
  const pump = () => {
    const now = elapsed();
    const upTo = Math.min(total, Math.floor(now / interval) + 1);
    for (; due < upTo; due++) {
      options.onDue?.(due * interval, Math.max(0, now - due * interval));
      const k = due % count;
      if (!connections[k]!.busy && connections[k]!.next === due) send(k, true);
    }
    if (due < total) pumpTimer = setTimeout(pump, Math.max(0, due * interval - elapsed()));
  };

  // Time-outs, checked often enough to be precise to a tenth of the time-out (at most 100 ms).
  const sweepEvery = Math.max(5, Math.min(100, options.timeoutMs / 10));
  sweepTimer = setInterval(() => {
    const now = elapsed();
    for (const [k, connection] of connections.entries())
      if (connection.busy && now - connection.sentAt > options.timeoutMs) options.abort(k);
  }, sweepEvery);

  // The load ends one time-out after its duration: what is still waiting for its connection
  // then was never sent, and fails; what is in flight is aborted.
  // Node's timers run on libuv's loop clock, in whole (and sometimes coarse) milliseconds, and
  // fire up to a few ms early by performance.now(): an early call is re-armed, so nothing is
  // called unsent before the deadline has passed.
  const deadlineMs = options.durationMs + options.timeoutMs;
  const atDeadline = () => {
    const now = elapsed();
    if (now < deadlineMs) {
      deadlineTimer = setTimeout(atDeadline, Math.max(1, Math.ceil(deadlineMs - now)));
      return;
    }
    for (const [k, connection] of connections.entries()) {
      for (let index = connection.next; index < total; index += count) {
        outcome.unsent++;
        finished++;
        options.onResult(index, index * interval, now - index * interval, false);
      }
      connection.next = total;
      if (connection.busy) options.abort(k);
    }
    check();
  };
  deadlineTimer = setTimeout(atDeadline, Math.max(0, deadlineMs - elapsed()));

  if (total === 0) check();
  else pumpTimer = setTimeout(pump, Math.max(0, -elapsed()));
  return done.then(() => outcome);
}
