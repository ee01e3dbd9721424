// The open-model engine's own process: requests due at a fixed rate, each timed from its
// due time (a stalled server's tail is reported, not omitted), over keep-alive connections.
import http from 'node:http';
import * as hdr from 'hdr-histogram-js';
import { runOpenLoad } from './open-model.ts';
import type { EngineReport, EngineRequest } from './types.ts';
import { exitWithParent } from './orphan-guard.ts';
import { pathPicker } from './paths.ts';
import { Timeline } from '../timeline.ts';

exitWithParent();
const request = JSON.parse(process.argv[2]!) as EngineRequest;
const warmupMs = request.warmupMs ?? 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 10_000 });
const target = new URL(request.url.replaceAll('{id}', '0'));
const nextPath = pathPicker(request);

function send(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: target.hostname, port: target.port, path: nextPath(), method: request.method ?? 'GET', agent, timeout: request.timeoutMs ?? 10_000 }, (response) => {
      response.resume();
      response.once('end', () => ((response.statusCode ?? 0) < 400 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
      response.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

const all = await runOpenLoad({ rate: request.rate!, durationMs: request.durationMs + warmupMs, request: send, maxInFlight: 10_000 });
// The warm-up is left out: a timeline of the measured span only.
const measured = new Timeline(100);
for (const sample of all.samples()) if (sample.t >= warmupMs) measured.record(sample.t - warmupMs, sample.latencyMs, sample.ok);
const report: EngineReport = {
  model: 'open',
  engine: 'dbproof-open',
  requests: measured.requests,
  errors: measured.errors,
  durationMs: request.durationMs,
  histogram: hdr.encodeIntoCompressedBase64(measured.overall),
  buckets: measured.buckets(),
};
agent.destroy();
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
