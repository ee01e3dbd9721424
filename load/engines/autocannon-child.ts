// The closed-model engine's own process: autocannon with `connections` clients. Run apart
// from dbproof (and from any app under test) so that neither shares its event loop.
// Every response goes into dbproof's timeline, latency as autocannon measured it.
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { Timeline } from '../timeline.ts';
import type { EngineReport, EngineRequest } from './types.ts';
import { exitWithParent } from './orphan-guard.ts';
import { pathPicker } from './paths.ts';

exitWithParent();
const request = JSON.parse(process.argv[2]!) as EngineRequest;
const warmupMs = request.warmupMs ?? 0;
const timeline = new Timeline(100, { keepSamples: false });
const nextPath = pathPicker(request);
const started = performance.now();
// With a callback autocannon returns its event emitter (a promise otherwise).
const instance = autocannon(
  {
    url: request.url.replaceAll('{id}', '0'),
    // A path per request (ids drawn from the seeded data); the plain URL's path otherwise.
    ...(request.ids ? { requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: nextPath() }) }] } : {}),
    method: (request.method ?? 'GET') as 'GET',
    connections: request.connections ?? 10,
    duration: (request.durationMs + warmupMs) / 1000,
    timeout: Math.ceil((request.timeoutMs ?? 10_000) / 1000),
    skipAggregateResult: true,
  } as autocannon.Options,
  (error) => (error ? (console.error(String(error)), process.exit(1)) : finish()),
);
const record = (latencyMs: number, ok: boolean) => {
  const now = performance.now() - started;
  const sentAt = now - latencyMs;
  if (sentAt >= warmupMs) timeline.record(sentAt - warmupMs, latencyMs, ok);
};
instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => record(responseTime, statusCode >= 200 && statusCode < 400));
instance.on('reqError', () => record(0, false));
function finish(): void {
  const report: EngineReport = {
    model: 'closed',
    engine: 'autocannon',
    requests: timeline.requests,
    errors: timeline.errors,
    durationMs: request.durationMs,
    histogram: hdr.encodeIntoCompressedBase64(timeline.overall),
    buckets: timeline.buckets(),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}
