import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import type { FaultEvent } from '../../harness/faults/index.ts';
import type { RequestSpec } from '../../harness/http/session.ts';
import type { SuiteContext } from '../../harness/suite/index.ts';
import { startWindowedLoad, type WindowedLoadReport } from '../../load/engines/windowed-load.ts';
import type { LimitClient } from './tally.ts';

export interface RedisDownOptions {
  /** What the limiter is said to do when Redis is away: admit (`open`) or refuse (`closed`, any non-2xx). */
  expect: 'open' | 'closed';
  windows: number;
}

/**
 * Redis killed, then the over clients sent again for `windows` windows, then Redis started:
 * a limiter that fails open admits every request, one that fails closed none. A request
 * answered otherwise is a violation of the stated behaviour (the team says which it wants:
 * open keeps the site up, closed keeps the limit).
 */
export async function redisDownPhase(
  context: SuiteContext,
  load: {
    urls: string[];
    request: RequestSpec;
    ids: { from: number; to: number };
    windowMs: number;
    guard: number;
    timeoutMs: number;
  },
  clients: LimitClient[],
  options: RedisDownOptions,
): Promise<{ verdict: Verdict; measurements: Record<string, number | null>; events: FaultEvent[] }> {
  const redis = context.topology.redis!;
  const over = clients.filter((c) => c.role === 'over');
  const windowed = await startWindowedLoad({ ...load, windows: options.windows, clients: over });
  const started = performance.now();
  const events: FaultEvent[] = [];
  const timed = async (kind: string, apply: () => Promise<void>) => {
    const t = performance.now() - started;
    await apply();
    events.push({ t, kind, target: 'redis', durationMs: performance.now() - started - t });
  };
  await timed('kill', () => redis.kill());
  let report: WindowedLoadReport;
  try {
    report = await windowed.start();
  } finally {
    await timed('start', () => redis.start());
  }
  const answers = report.answers.flat();
  const of = (pick: (status: number) => boolean) => answers.filter((a) => pick(a.status)).length;
  const sent = answers.length;
  const admitted = of((s) => s >= 200 && s < 300);
  // The limiter's refusals are 429 and 503; any other failure is the request's own (a database
  // time-out on a busy machine), which the limiter let through.
  const refused = of((s) => s === 429 || s === 503);
  const violations = options.expect === 'open' ? refused : sent - refused;
  const other = of((s) => s !== 0 && (s < 200 || s >= 300) && s !== 429 && s !== 503);
  const unanswered = of((s) => s === 0);
  const refusedBy = `${of((s) => s === 429)} answered 429, ${of((s) => s === 503)} 503, ${other} another status, ${unanswered} not at all`;
  // Not one answer (an app hanging on the dead Redis, every request past its time-out): no
  // refusal was seen, and no admission either; which way the limiter fails is not shown.
  const answered = sent - unanswered;
  return {
    verdict: judge(
      `with Redis down the limiter fails ${options.expect} (${options.expect === 'open' ? 'no request refused with 429 or 503' : 'every request refused with 429 or 503'})`,
      atMost('redisDownViolations', 0, 'count', load.request.path),
      answered === 0 ? null : violations,
      `with Redis killed, ${admitted} of ${sent} requests were admitted (${refusedBy})${answered === 0 ? ': none answered, nothing to judge' : ''}${report.lastError ? `; last: ${report.lastError}` : ''}`,
    ),
    measurements: {
      redisDownSent: sent,
      redisDownAdmitted: admitted,
      redisDownViolations: answered === 0 ? null : violations,
    },
    events,
  };
}
