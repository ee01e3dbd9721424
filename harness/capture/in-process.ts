import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { queryShape, loadParser } from './fingerprint.ts';
import type { QueryEvent } from './types.ts';

/** A node a connection may be talking to, recognised by its port. */
export interface KnownNode {
  name: string;
  port: number;
}

interface Recorder {
  events: QueryEvent[];
  nodesByPort: Map<number, string>;
  /** Traces taken per statement text: a repeated statement needs its site only a few times. */
  traces: Map<string, number>;
}

const TRACES_PER_STATEMENT = 3;

const storage = new AsyncLocalStorage<Recorder>();
// The app's call site of a pool.query(): the pool reaches Client#query later, from its
// own callbacks, where the app's frame is no longer on the stack.
const siteStorage = new AsyncLocalStorage<Trace>();

/**
 * An unformatted stack: collecting frames is cheap, formatting them is not (it was
 * most of the capture's overhead), and a site is only read for the few statements
 * that end up in a finding.
 */
interface Trace {
  stack?: string;
}

function captureTrace(): Trace {
  const trace: Trace = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 16;
  Error.captureStackTrace(trace, captureTrace);
  Error.stackTraceLimit = limit;
  return trace;
}
const INSTRUMENTED = Symbol.for('dbproof.capture.instrumented');

/** The first stack frame outside node_modules and outside dbproof's capture code: where the app asked. */
function callSite(stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    if (line.includes('node:')) continue; // Node's own internals
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(line.trim());
    if (!match) continue;
    const file = match[1]!.replace(/^file:\/\//, '');
    if (file.includes('/node_modules/') || file.includes('/harness/capture/') || file.startsWith('node:')) continue;
    return `${file}:${match[2]}`;
  }
  return undefined;
}

function statementOf(config: unknown): { text: string; values?: unknown[] } | undefined {
  if (typeof config === 'string') return { text: config };
  if (config && typeof config === 'object' && typeof (config as { text?: unknown }).text === 'string') {
    const { text, values } = config as { text: string; values?: unknown[] };
    return { text, values };
  }
  return undefined;
}

/**
 * Wraps `pg.Client.prototype.query` once. Outside captureQueries() it only checks
 * for a recorder and calls the original; inside, it times the query and records it.
 * What the caller gets back — a promise, undefined with a callback, or the same
 * Submittable — is exactly what the original returns.
 */
export function instrumentPg(client: typeof pg.Client = pg.Client): void {
  const proto = client.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[INSTRUMENTED]) return;
  const original = proto.query as (...args: unknown[]) => unknown;
  proto[INSTRUMENTED] = true;
  proto.query = function instrumentedQuery(this: pg.Client, ...args: unknown[]): unknown {
    const recorder = storage.getStore();
    const statement = recorder ? statementOf(args[0]) : undefined;
    if (!recorder || !statement) return original.apply(this, args);
    const values = (Array.isArray(args[1]) ? args[1] : statement.values) as unknown[] | undefined;
    const taken = recorder.traces.get(statement.text) ?? 0;
    const trace = taken < TRACES_PER_STATEMENT ? (siteStorage.getStore() ?? captureTrace()) : undefined;
    if (trace) recorder.traces.set(statement.text, taken + 1);
    const port = Number((this as unknown as { connectionParameters?: { port?: number } }).connectionParameters?.port);
    const started = performance.now();
    const record = (rows: number) => {
      const shape = queryShape(statement.text);
      const event = {
        fingerprint: shape.fingerprint,
        sql: statement.text,
        params: values,
        durationMs: performance.now() - started,
        rows,
        node: recorder.nodesByPort.get(port) ?? 'unknown',
        calls: 1,
      } as QueryEvent;
      if (trace) {
        let site: string | undefined | null = null;
        Object.defineProperty(event, 'site', {
          enumerable: true,
          get: () => {
            if (site === null) site = callSite(trace.stack);
            return site;
          },
        });
      }
      recorder.events.push(event);
    };
    const rowsOf = (result: unknown) =>
      Array.isArray(result)
        ? result.reduce((n, r: { rowCount?: number }) => n + (r?.rowCount ?? 0), 0)
        : ((result as { rowCount?: number } | undefined)?.rowCount ?? 0);
    const callbackIndex = args.findIndex((a) => typeof a === 'function');
    if (callbackIndex >= 0) {
      const callback = args[callbackIndex] as (error: unknown, result: unknown) => void;
      args[callbackIndex] = (error: unknown, result: unknown) => {
        record(error ? 0 : rowsOf(result));
        callback(error, result);
      };
      return original.apply(this, args);
    }
    const returned = original.apply(this, args);
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      (returned as Promise<unknown>).then(
        (result) => record(rowsOf(result)),
        () => record(0),
      );
    } else {
      record(0); // a Submittable (cursor, stream): counted, rows unknown
    }
    return returned;
  };
}

/** Wraps `pg.Pool.prototype.query` once, to remember where the app called it. */
function instrumentPool(pool: typeof pg.Pool = pg.Pool): void {
  const proto = pool.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[INSTRUMENTED]) return;
  const original = proto.query as (...args: unknown[]) => unknown;
  proto[INSTRUMENTED] = true;
  proto.query = function instrumentedPoolQuery(this: pg.Pool, ...args: unknown[]): unknown {
    if (!storage.getStore()) return original.apply(this, args);
    return siteStorage.run(captureTrace(), () => original.apply(this, args));
  };
}

export interface CaptureResult<T> {
  value: T;
  events: QueryEvent[];
}

/**
 * Runs `fn` and records every query node-postgres sends for the async work started
 * inside it (and only that work: concurrent requests are not mixed in), with its
 * shape, duration, rows, node and call site.
 */
export async function captureQueries<T>(
  fn: () => Promise<T> | T,
  options: { nodes?: KnownNode[] } = {},
): Promise<CaptureResult<T>> {
  await loadParser();
  instrumentPg();
  instrumentPool();
  const recorder: Recorder = {
    events: [],
    nodesByPort: new Map((options.nodes ?? []).map((n) => [n.port, n.name])),
    traces: new Map(),
  };
  const value = await storage.run(recorder, fn);
  // A query whose promise settled in the same tick as fn's last await is recorded by now.
  await new Promise((resolve) => setImmediate(resolve));
  return { value, events: recorder.events };
}
