// A suite's load in its own process (issue 13): the requests a suite describes, sent on the
// open or the closed model and timed here, away from dbproof's event loop. Waits for
// `go <epoch ms>` on stdin, then reports its timeline on stdout.
import { Session } from '../../harness/http/session.ts';
import { idDistribution, Rng } from '../../harness/random/index.ts';
import type { Timeline } from '../timeline.ts';
import { runClosedLoad } from './closed-model.ts';
import { runOpenLoad } from './open-model.ts';
import { seenAnswers } from '../../harness/http/seen.ts';
import { exitWithParent, reportAndExit, waitForGo } from './orphan-guard.ts';
import type { SuiteLoadEntry, SuiteLoadReport, SuiteLoadRequest } from './suite-load.ts';

exitWithParent();
const request = JSON.parse(process.argv[2]!) as SuiteLoadRequest;
const rng = new Rng(42, request.seed);
const total = request.requests.reduce((sum, entry) => sum + (entry.weight ?? 1), 0);
const draw = (): SuiteLoadEntry => {
  let r = rng.next() * total;
  for (const entry of request.requests) {
    r -= entry.weight ?? 1;
    if (r < 0) return entry;
  }
  return request.requests[0]!;
};
const ids = new Map(
  request.requests.map((entry) => [entry, entry.ids ? idDistribution({ skew: 0, ...entry.ids }) : undefined]),
);
let keys = 0;
let lastError = '';

/** One request on `session`: resolves when answered as expected, rejects (and is remembered) otherwise. */
async function send(session: Session): Promise<void> {
  const entry = draw();
  const vars: Record<string, string | number> = {};
  const distribution = ids.get(entry);
  if (distribution) vars.id = distribution.sample(rng);
  if (entry.keyPrefix !== undefined) vars.key = `${entry.keyPrefix}${keys++}`;
  try {
    await session.expectOk(entry.spec, vars, entry.expect);
  } catch (error) {
    lastError = messageOf(error);
    throw error;
  }
}

/** A failure's message; fetch hides why a connection failed in its cause, which says more than `fetch failed`. */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}

// The parent's instant in this process's clock: both read the same epoch.
const origin = await waitForGo();
const timeoutMs = request.timeoutMs ?? 10_000;
let timeline: Timeline;
const urls = request.urls?.length ? request.urls : [request.url];
if (request.rate) {
  // A session (its cookies) per instance, each request to the next one.
  const sessions = urls.map((url) => new Session(url, timeoutMs));
  let next = 0;
  timeline = await runOpenLoad({
    rate: request.rate,
    durationMs: request.durationMs,
    bucketMs: request.bucketMs,
    origin,
    request: () => send(sessions[next++ % sessions.length]!),
  });
} else {
  const sessions = Array.from(
    { length: request.connections! },
    (_, client) => new Session(urls[client % urls.length]!, timeoutMs),
  );
  timeline = await runClosedLoad({
    connections: request.connections!,
    durationMs: request.durationMs,
    bucketMs: request.bucketMs,
    origin,
    request: (client) => send(sessions[client]!),
  });
}
const round = (ms: number) => Math.round(ms * 1000) / 1000;
const report: SuiteLoadReport = {
  bucketMs: timeline.bucketMs,
  requests: timeline.requests,
  samples: timeline.samples().map((s) => [round(s.t), round(s.latencyMs), s.ok ? 1 : 0]),
  late: timeline
    .buckets()
    .flatMap((b) => (b.sendLateMs === undefined ? [] : [[b.t, b.sendLateMs] as [number, number]])),
  lastError,
  seen: seenAnswers.list(),
};
reportAndExit(report);
