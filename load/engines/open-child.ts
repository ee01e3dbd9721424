// The open-model engine's own process: requests due at a fixed rate, each timed from its
// due time (a stalled server's tail is reported, not omitted), over keep-alive connections.
import http from 'node:http';
import { runOpenLoad } from './open-model.ts';
import type { EngineRequest } from './types.ts';
import { announceStarted, exitWithParent } from './orphan-guard.ts';
import { requestPicker, type PickedRequest } from './paths.ts';
import { EngineRecorder } from './recorder.ts';

exitWithParent();
announceStarted();
const request = JSON.parse(process.argv[2]!) as EngineRequest;
const agent = new http.Agent({ keepAlive: true, maxSockets: 10_000 });
const target = new URL(request.url.replaceAll('{id}', '0'));
const pick = requestPicker(request);
const recorder = new EngineRecorder(request);
// The request each due index sent (a saturated client's skipped one is drawn when it is recorded).
const sent = new Map<number, PickedRequest>();

function send(index: number): Promise<void> {
  const next = pick();
  sent.set(index, next);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname: target.hostname, port: target.port, path: next.path, method: next.method, agent },
      (response) => {
        response.resume();
        response.once('end', () =>
          (response.statusCode ?? 0) < 400 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`)),
        );
        response.once('error', reject);
      },
    );
    // A deadline for the whole request, not an idle time-out: a body that trickles in for
    // ever is never idle, and would keep the load from ending.
    const timer = setTimeout(() => req.destroy(new Error('timed out')), request.timeoutMs ?? 10_000);
    req.once('close', () => clearTimeout(timer));
    req.once('error', reject);
    req.end();
  });
}

await runOpenLoad({
  rate: request.rate!,
  durationMs: request.durationMs + (request.warmupMs ?? 0),
  request: send,
  maxInFlight: 10_000,
  keepSamples: false,
  onSent: (due, lateMs) => recorder.sentLate(due, lateMs),
  onResult: (index, due, latencyMs, ok) => {
    const endpoint = (sent.get(index) ?? pick()).endpoint;
    sent.delete(index);
    recorder.record(endpoint, due, latencyMs, ok);
  },
});
agent.destroy();
process.stdout.write(`${JSON.stringify(recorder.report('open', 'dbproof-open'))}\n`);
process.exit(0);
