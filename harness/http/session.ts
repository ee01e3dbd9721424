import http from 'node:http';
import { parseRequestLine } from './request.ts';
import { redact } from '../redact.ts';
import { headerPairs, seenAnswers } from './seen.ts';

/**
 * A request a suite sends, written the way people write them: `GET /inspections/{id}`,
 * `PUT /inspections/{id}/status` with a JSON body whose strings may hold `{name}` too.
 */
export interface RequestSpec {
  method: string;
  path: string;
  body?: unknown;
  /** Headers sent with it, e.g. a client's API key (`{name}` filled in their values too). */
  headers?: Record<string, string>;
}

export type RequestInput = string | RequestSpec;

export function parseRequest(input: RequestInput, body?: unknown): RequestSpec {
  if (typeof input !== 'string') return input;
  return { ...parseRequestLine(input), ...(body === undefined ? {} : { body }) };
}

const fillText = (template: string, vars: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));

/** A JSON value with `{name}` filled in its strings (at any depth); names not in `vars` are left as written. */
export function fillValue(value: unknown, vars: Record<string, string | number>): unknown {
  if (typeof value === 'string') return fillText(value, vars);
  if (Array.isArray(value)) return value.map((v) => fillValue(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillValue(v, vars)]));
  return value;
}

export interface Answer {
  status: number;
  body: unknown;
  /** The response's headers (absent on answers made up by a caller, not received). */
  headers?: Headers;
}

/**
 * One client of the app, keeping cookies like a browser does (an app's read-your-writes
 * often rides on a session cookie). Requests time out: a suite never waits forever.
 */
export class Session {
  readonly #cookies = new Map<string, string>();
  readonly #agent: http.Agent | undefined;

  /**
   * `localAddress`: the address the session's connections come from (any of 127.0.0.0/8 on
   * Linux), so that an app telling clients apart by address sees each session as one client.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
    options: { localAddress?: string } = {},
  ) {
    // fetch cannot choose its source address without undici's Agent; node:http can.
    if (options.localAddress) this.#agent = new http.Agent({ keepAlive: true, localAddress: options.localAddress });
  }

  async send(spec: RequestSpec, vars: Record<string, string | number> = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name.toLowerCase()] = fillText(value, vars);
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(fillValue(spec.body, vars));
    }
    const url = `${this.baseUrl}${fillText(spec.path, vars)}`;
    // The time-out is raced, not only handed to fetch, so that it bounds the whole exchange
    // whatever fetch does: reported Node bugs leave a body read pending after an abort
    // (nodejs/node#56917) or lose a collected signal (nodejs/node#55428). Neither reproduced
    // here on Node 20 (test/load/session-timeout.test.ts passes without the race too); the
    // race costs one timer per request and makes "every request ends" this code's own promise.
    const controller = new AbortController();
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const timer = setTimeout(
      () => controller.abort(new DOMException(`timed out: no answer in ${this.timeoutMs} ms`, 'TimeoutError')),
      this.timeoutMs,
    );
    const exchange = this.#exchange(url, { method: spec.method, headers, body, signal: controller.signal });
    void exchange.then(
      ({ status, headers: received }) => {
        const seen = { origin: this.baseUrl, request: `${spec.method} ${spec.path}`, status };
        if (received && seenAnswers.wants(seen)) seenAnswers.add({ ...seen, headers: headerPairs(received) });
      },
      () => {},
    );
    try {
      return await Promise.race([exchange, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #exchange(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
  ): Promise<Answer> {
    const response = this.#agent ? await sendThrough(this.#agent, url, init) : await fetch(url, init);
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      if (at > 0) this.#cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim());
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  /** Sends and throws unless the status is 2xx (or one of `expect`): what a load counts as an error. */
  async expectOk(spec: RequestSpec, vars: Record<string, string | number> = {}, expect?: number[]): Promise<Answer> {
    const answer = await this.send(spec, vars);
    const fine = expect ? expect.includes(answer.status) : answer.status >= 200 && answer.status < 300;
    // Redacted before it is cut: an app may echo its credentials, and a URL cut before its `@` would show half a password.
    if (!fine)
      throw new Error(
        `${spec.method} ${fillText(spec.path, vars)}: HTTP ${answer.status} ${redact(JSON.stringify(answer.body)).slice(0, 200)}`,
      );
    return answer;
  }
}

/** A request through a node:http agent (one with a source address of its own), answered as fetch answers. */
function sendThrough(
  agent: http.Agent,
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method, headers: init.headers, agent, signal: init.signal });
    request.on('error', reject);
    request.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const headers = new Headers();
        for (let i = 0; i < incoming.rawHeaders.length; i += 2)
          headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
        const status = incoming.statusCode ?? 500;
        // A Response of these statuses may not have a body, even an empty one.
        const body = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, headers }));
      });
    });
    request.end(init.body);
  });
}

/** A string field of a JSON answer, e.g. `status` of `{ id, status }`. */
export function field(answer: Answer, name: string): unknown {
  return answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>)[name] : undefined;
}
