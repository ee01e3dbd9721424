// A windowed load in its own process (issue 18): each client's requests for each window sent
// evenly in the window's middle, each reported with when it was sent and answered. Waits for
// `go …` on stdin, then reports on stdout. Judging is the parent's: this only records.
import { setTimeout as sleep } from 'node:timers/promises';
import { seenAnswers } from '../../harness/http/seen.ts';
import { Session } from '../../harness/http/session.ts';
import { redact } from '../../harness/redact.ts';
import { exitWithParent, reportAndExit, waitForGo } from './orphan-guard.ts';
import type { WindowedAnswer, WindowedLoadReport, WindowedLoadRequest } from './windowed-load.ts';

exitWithParent();
const request = JSON.parse(process.argv[2]!) as WindowedLoadRequest;
let lastError = '';

const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string } | undefined;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
};

/** A RateLimit field: `RateLimit-<name>` (drafts 03–06), else `<short>=`/`<name>=` in the combined `RateLimit` (07 on). */
function rateLimitField(headers: Headers | undefined, name: 'remaining' | 'reset', short: string): number | undefined {
  const own = headers?.get(`ratelimit-${name}`);
  if (own && /^\d+$/.test(own.trim())) return Number(own);
  const combined = headers?.get('ratelimit')?.match(new RegExp(`(?:^|[;,\\s])(?:${short}|${name})=(\\d+)`));
  return combined ? Number(combined[1]) : undefined;
}

await waitForGo();
if (request.warmUp) {
  const { requests, headers } = request.warmUp;
  const spec = { ...request.request, headers: { ...request.request.headers, ...headers } };
  const sessions = request.urls.map((url) => new Session(url, request.timeoutMs));
  // Failures are the windows' to find and report: the warm-up only warms.
  await Promise.all(
    Array.from({ length: requests }, (_, n) =>
      sessions[n % sessions.length]!.send(spec, {
        id: request.ids.from + (n % (request.ids.to - request.ids.from + 1)),
        n: 1 + (n % 254),
      }).catch(() => {}),
    ),
  );
}
const { windowMs, guard } = request;
const firstWindowAt = Math.ceil((Date.now() + (request.leadMs ?? 200)) / windowMs) * windowMs;
const span = windowMs * (1 - 2 * guard);
const idCount = request.ids.to - request.ids.from + 1;
const answers: WindowedAnswer[][] = request.clients.map(() => []);
// Epoch milliseconds: the app's fixed windows are aligned to the epoch, on the same clock.
const sinceFirstWindow = () => Date.now() - firstWindowAt;

async function runClient(index: number): Promise<void> {
  const client = request.clients[index]!;
  // A session per instance and client: a client's cookies stay with the instance that set them.
  const sessions = request.urls.map(
    (url) => new Session(url, request.timeoutMs, client.localAddress ? { localAddress: client.localAddress } : {}),
  );
  const spec = { ...request.request, headers: { ...request.request.headers, ...client.headers } };
  const inFlight: Promise<void>[] = [];
  let n = 0;
  for (let window = 0; window < request.windows; window++) {
    for (let i = 0; i < client.perWindow; i++) {
      const due = (window + guard) * windowMs + (i * span) / client.perWindow;
      const wait = due - sinceFirstWindow();
      if (wait > 0) await sleep(wait);
      const session = sessions[client.instance ?? n % sessions.length]!;
      const vars = { id: request.ids.from + (n % idCount), n: 1 + (n % 254) };
      n++;
      const answer: WindowedAnswer = { window, sentAt: sinceFirstWindow(), doneAt: 0, status: 0 };
      answers[index]!.push(answer);
      inFlight.push(
        session.send(spec, vars).then(
          (answered) => {
            answer.doneAt = sinceFirstWindow();
            answer.status = answered.status;
            const retryAfter = answered.headers?.get('retry-after');
            if (retryAfter) answer.retryAfter = retryAfter;
            const remaining = rateLimitField(answered.headers, 'remaining', 'r');
            if (remaining !== undefined) answer.remaining = remaining;
            const reset = rateLimitField(answered.headers, 'reset', 't');
            if (reset !== undefined) answer.reset = reset;
            if (![429, 503].includes(answered.status) && (answered.status < 200 || answered.status >= 300))
              lastError = `${spec.method} ${spec.path}: HTTP ${answered.status} ${redact(JSON.stringify(answered.body)).slice(0, 200)}`;
          },
          (error: unknown) => {
            answer.doneAt = sinceFirstWindow();
            lastError = messageOf(error);
          },
        ),
      );
    }
  }
  await Promise.all(inFlight);
}

// Every request has its time-out, so this waits for nothing in the end; but a request that
// is still unsettled when the engine's deadline comes (sent late by a saturated machine, or
// never answered: the reference app's lag-monitor meltdown, CI2 of 2026-12-03) costs its answer, not the
// load: at the deadline the engine reports, the unsettled requests as not answered.
const deadlineMs = request.windows * windowMs + request.timeoutMs + 1000;
const everyClient = Promise.all(request.clients.map((_, index) => runClient(index)));
const late = await Promise.race([
  everyClient.then(() => false),
  sleep(Math.max(0, deadlineMs - sinceFirstWindow()), true, { ref: false }),
]);
if (late) {
  const unsettled = answers.flat().filter((a) => a.doneAt === 0);
  for (const answer of unsettled) answer.doneAt = sinceFirstWindow();
  lastError = `${unsettled.length} request(s) still unanswered ${request.timeoutMs} ms after the last window, past their time-out`;
}
const report: WindowedLoadReport = { firstWindowAt, answers, lastError, seen: seenAnswers.list() };
reportAndExit(report);
