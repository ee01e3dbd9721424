// The closed-model engine's own process: autocannon with `connections` clients. Run apart
// from dbproof (and from any app under test) so that neither shares its event loop.
// Every response goes into dbproof's timeline, latency as autocannon measured it.
import autocannon from 'autocannon';
import type { EngineRequest } from './types.ts';
import { announceStarted, exitWithParent, reportAndExit } from './orphan-guard.ts';
import { requestPicker, writtenRequests } from './paths.ts';
import { rawHeaderPairs, seenAnswers } from '../../harness/http/seen.ts';
import { EngineRecorder } from './recorder.ts';
import { sampleLoopLag } from './loop-lag.ts';

exitWithParent();
announceStarted();
const request = JSON.parse(process.argv[2]!) as EngineRequest;
const recorder = new EngineRecorder(request);
const pick = requestPicker(request);
const dynamic = Boolean(request.ids || request.mix?.length);
const started = performance.now();
const planUrl = request.url.replaceAll('{id}', '0');
/** The request's path and query on another instance's origin. */
const onInstance = (origin: string) => {
  const { pathname, search } = new URL(planUrl);
  return new URL(`${pathname}${search}`, origin).href;
};
// The closed model's own lateness: a response waits for a held-up event loop before its client sends again.
sampleLoopLag(started, (t, lateMs) => recorder.sentLate(t, lateMs));

/** autocannon keeps a context per client: the mix entry its request in flight went to. */
interface ClientContext {
  endpoint?: number;
}
/** autocannon's client, as far as it is used here: its events, its context and its instance's origin. */
type AutocannonClient = NodeJS.EventEmitter & {
  requestIterator?: { context?: ClientContext };
  opts?: { origin?: string };
};
const written = writtenRequests(request);
/**
 * When each client's request in flight was sent (ms after the start). autocannon drops the
 * requests still unanswered when the load ends; one that waited the whole load is the app
 * hanging, and is counted as failed in `finish` (an app that answers nothing must fail its
 * scenario, not leave it with no request measured).
 */
const waiting = new Map<AutocannonClient, number>();
const watchClient = (client: AutocannonClient) => {
  client.on('request', () => waiting.set(client, performance.now() - started));
  // Not on 'timeout': autocannon sends the next request before it says the last one timed out.
  for (const done of ['response', 'connError']) client.on(done, () => waiting.delete(client));
  // The first answer of each kind, headers and all, for the headers suite (an interim 1xx is not the answer).
  client.on('headers', (info: { statusCode: number; headers: string[] }) => {
    if (info.statusCode < 200) return;
    const kind = {
      origin: client.opts?.origin ?? new URL(planUrl).origin,
      request: written[client.requestIterator?.context?.endpoint ?? 0]!,
      status: info.statusCode,
    };
    if (seenAnswers.wants(kind)) seenAnswers.add({ ...kind, headers: rawHeaderPairs(info.headers) });
  });
};
// With a callback autocannon returns its event emitter (a promise otherwise).
const instance = autocannon(
  {
    // Several instances: autocannon gives its clients to the URLs in turn.
    url: request.instances?.length ? request.instances.map((origin) => onInstance(origin)) : planUrl,
    // A path (and, in a mix, a method) per request; the plain URL's otherwise.
    ...(dynamic
      ? {
          requests: [
            {
              setupRequest: (req: Record<string, unknown>, context: ClientContext) => {
                const next = pick();
                context.endpoint = next.endpoint;
                return { ...req, method: next.method, path: next.path };
              },
            },
          ],
        }
      : {}),
    method: (request.method ?? 'GET') as 'GET',
    setupClient: watchClient,
    connections: request.connections ?? 10,
    duration: (request.durationMs + (request.warmupMs ?? 0)) / 1000,
    timeout: Math.ceil((request.timeoutMs ?? 10_000) / 1000),
    skipAggregateResult: true,
  } as autocannon.Options,
  (error) => {
    if (!error) return finish();
    console.error(String(error));
    process.exit(1);
  },
);
const record = (endpoint: number, latencyMs: number, ok: boolean) => {
  const now = performance.now() - started;
  recorder.record(endpoint, now - latencyMs, latencyMs, ok);
};
// The 'response' event's first argument is the client (autocannon's types leave it out).
(instance as unknown as NodeJS.EventEmitter).on(
  'response',
  (
    client: { requestIterator?: { context?: ClientContext } },
    statusCode: number,
    _bytes: number,
    responseTime: number,
  ) => record(client.requestIterator?.context?.endpoint ?? 0, responseTime, statusCode >= 200 && statusCode < 400),
);
// A connection error or time-out names no client: it counts in the scenario's errors, and
// (in a mix) against no endpoint in particular.
instance.on('reqError', () => record(-1, 0, false));
function finish(): void {
  const end = performance.now() - started;
  const timeoutMs = request.timeoutMs ?? 10_000;
  const hung = Math.min(timeoutMs, request.durationMs);
  for (const [client, sentAt] of waiting) {
    if (end - sentAt < hung) continue;
    // Sent in the warm-up and never answered: it failed in the measured span.
    const t = Math.max(sentAt, request.warmupMs ?? 0);
    recorder.record(client.requestIterator?.context?.endpoint ?? 0, t, end - sentAt, false);
  }
  reportAndExit({ ...recorder.report('closed', 'autocannon'), seen: seenAnswers.list() });
}
