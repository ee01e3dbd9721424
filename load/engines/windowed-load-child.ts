// A windowed load in its own process (issue 18): each client's requests for each window sent
// evenly in the window's middle, counted by the window they were sent for. Waits for
// `go …` on stdin, then reports its counts on stdout.
import { setTimeout as sleep } from 'node:timers/promises';
import { Session } from '../../harness/http/session.ts';
import { redact } from '../../harness/redact.ts';
import { exitWithParent, reportAndExit, waitForGo } from './orphan-guard.ts';
import type { WindowCount, WindowedLoadReport, WindowedLoadRequest } from './windowed-load.ts';

exitWithParent();
const request = JSON.parse(process.argv[2]!) as WindowedLoadRequest;
let lastError = '';

const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string } | undefined;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
};

/** When a Retry-After (delta seconds or an HTTP date) tells the client to come back, as an epoch instant. */
function retryAtOf(value: string | null | undefined, from: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return from + Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : date;
}

await waitForGo();
const { windowMs, guard } = request;
const firstWindowAt = Math.ceil((Date.now() + (request.leadMs ?? 200)) / windowMs) * windowMs;
const span = windowMs * (1 - 2 * guard);
const idCount = request.ids.to - request.ids.from + 1;
const counts: WindowCount[][] = request.clients.map(() =>
  Array.from({ length: request.windows }, () => ({
    sent: 0,
    admitted: 0,
    limited: 0,
    unavailable: 0,
    other: 0,
    failed: 0,
    late: 0,
    limitedWithoutRetryAfter: 0,
    retryTooEarly: 0,
    retryTooLate: 0,
  })),
);

const lastAnswerAt = request.clients.map(() => 0);

async function runClient(index: number): Promise<void> {
  const client = request.clients[index]!;
  // A session per instance and client: a client's cookies stay with the instance that set them.
  const sessions = request.urls.map((url) => new Session(url, request.timeoutMs));
  const spec = { ...request.request, headers: { ...request.request.headers, ...client.headers } };
  const inFlight: Promise<void>[] = [];
  let n = 0;
  for (let window = 0; window < request.windows; window++) {
    const start = firstWindowAt + window * windowMs;
    const end = start + windowMs;
    for (let i = 0; i < client.perWindow; i++) {
      const due = start + guard * windowMs + (i * span) / client.perWindow;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const count = counts[index]![window]!;
      const session = sessions[n % sessions.length]!;
      const vars = { id: request.ids.from + (n % idCount), n: 1 + (n % 254) };
      n++;
      count.sent++;
      const sentAt = Date.now();
      inFlight.push(
        session.send(spec, vars).then(
          (answer) => {
            lastAnswerAt[index] = Math.max(lastAnswerAt[index]!, Date.now());
            if (Date.now() > end) count.late++;
            if (answer.status >= 200 && answer.status < 300) count.admitted++;
            else if (answer.status === 429) {
              count.limited++;
              // The app decided between sending and answering: too early counted from the answer,
              // too late from the sending, so that a slow answer is never the app's fault.
              const retryAfter = answer.headers?.get('retry-after');
              const answeredAt = Date.now();
              const early = retryAtOf(retryAfter, answeredAt);
              if (early === undefined) count.limitedWithoutRetryAfter++;
              else if (early < end) count.retryTooEarly++;
              else if (retryAtOf(retryAfter, sentAt)! > end + windowMs + 1000) count.retryTooLate++;
            } else if (answer.status === 503) count.unavailable++;
            else {
              count.other++;
              lastError = `${spec.method} ${spec.path}: HTTP ${answer.status} ${redact(JSON.stringify(answer.body)).slice(0, 200)}`;
            }
          },
          (error: unknown) => {
            count.failed++;
            lastError = messageOf(error);
          },
        ),
      );
    }
  }
  await Promise.all(inFlight);
}

await Promise.all(request.clients.map((_, index) => runClient(index)));
const report: WindowedLoadReport = { firstWindowAt, counts, lastAnswerAt, lastError };
reportAndExit(report);
