// The open-model engine's own process: requests due at a fixed rate on a fixed set of
// keep-alive connections (wrk2's design, `connection-schedule.ts`), each timed from its due
// time, so a stalled server's tail is reported, not omitted; a lean HTTP/1.1 client on each.
import { type ConnectionScheduleOutcome, runConnectionSchedule } from './connection-schedule.ts';
import { Http1Connection } from './http1-connection.ts';
import { exitWithParent, reportAndExit, waitForGo } from './orphan-guard.ts';
import { type PickedRequest, requestPicker, writtenRequests } from './paths.ts';
import { rawHeaderPairs, seenAnswers } from '../../harness/http/seen.ts';
import { EngineRecorder } from './recorder.ts';
import { defaultConnections, type EngineRequest } from './types.ts';

exitWithParent();
const request = JSON.parse(process.argv[2]!) as EngineRequest;
const rate = request.rate!;
const connections = request.connections ?? defaultConnections(rate);
const pick = requestPicker(request);
// Connection c goes to instance c mod N: request i, on connection i mod C, to each in turn.
const targets = (request.instances?.length ? request.instances : [request.url]).map(
  (url) => new URL(url.replaceAll('{id}', '0')),
);
const clients = Array.from({ length: connections }, (_, c) => {
  const target = targets[c % targets.length]!;
  return new Http1Connection(target.hostname, Number(target.port) || 80);
});
// Each connection's instance as the headers suite names it (read once, not per answer).
const origins = Array.from({ length: connections }, (_, c) => targets[c % targets.length]!.origin);
// The request each index sent, for its endpoint when it is recorded.
const sent = new Map<number, PickedRequest>();
// The first answer of each kind, headers and all, for the headers suite (one Map look-up per answer).
const written = writtenRequests(request);

function send(connection: number, index: number, done: (ok: boolean) => void): void {
  const next = pick();
  sent.set(index, next);
  const origin = origins[connection]!;
  clients[connection]!.request(next.method, next.path, (status, _error, headers) => {
    if (status > 0 && headers) {
      const kind = { origin, request: written[next.endpoint]!, status };
      if (seenAnswers.wants(kind)) seenAnswers.add({ ...kind, headers: rawHeaderPairs(headers) });
    }
    done(status > 0 && status < 400);
  });
}

// Time 0 is the parent's `go` (the epoch, read alike by every process), so the workers of a
// split load share one schedule: worker w's requests fall between the others'.
const go = await waitForGo();
const worker = request.worker ?? { index: 0, of: 1 };
const origin = go + (worker.index * 1000) / (rate * worker.of);
const recorder = new EngineRecorder(request, origin);

const outcome: ConnectionScheduleOutcome = await runConnectionSchedule({
  rate,
  origin,
  durationMs: request.durationMs + (request.warmupMs ?? 0),
  connections,
  timeoutMs: request.timeoutMs ?? 10_000,
  send,
  abort: (connection) => clients[connection]!.abort('timed out'),
  onDue: (due, lateMs) => recorder.sentLate(due, lateMs),
  onResult: (index, due, latencyMs, ok) => {
    const endpoint = (sent.get(index) ?? pick()).endpoint;
    sent.delete(index);
    recorder.record(endpoint, due, latencyMs, ok);
  },
});
for (const client of clients) client.abort('the load ended');
reportAndExit({
  ...recorder.report('open', 'dbproof-open'),
  connections,
  unsent: outcome.unsent,
  waited: outcome.waited,
  seen: seenAnswers.list(),
});
