import { setTimeout as sleep } from 'node:timers/promises';
import { StatementWatcher, type WatchedNode } from '../../harness/capture/black-box.ts';
import type { FaultEvent } from '../../harness/faults/schedule.ts';
import type { SuiteContext } from '../../harness/suite/index.ts';
import { pollUntil } from '../../harness/wait.ts';
import type { EndpointCheck } from './endpoint-check.ts';
import type { BadKind, BatchFallbackOptions } from './options.ts';
import { answeredOk } from './outcomes.ts';

export type FaultKind = 'kill' | 'freeze';

export interface FaultCases {
  events: FaultEvent[];
  /** The faults that could not strike in the middle of the fallback, each with why. */
  missed: string[];
  /** Statements of the fallback the faults were timed by (a batch sent first without a fault). */
  rehearsalStatements: number;
  /** Fault cases answered failed as a whole (then sent again). */
  failedWhole: number;
}

/**
 * Faults in the middle of a fallback. The app's link to the primary is slowed (every
 * statement then takes a round trip of `linkLatencyMs` or more), a batch with a bad item
 * is sent without a fault to count its statements, then each fault case sends one like it
 * and strikes once half as many statements have run: the app's connections reset on its
 * link (`kill`), or the primary frozen for `freezeMs` (`freeze`). The answer is judged
 * with a failure as a whole allowed, if nothing of the batch was stored; a batch so failed
 * is sent again once the fault is over, as a client would, and must then store each good
 * item once.
 */
export async function faultCases(
  check: EndpointCheck,
  context: SuiteContext,
  watch: { nodes: WatchedNode[]; role: string; database: string },
  options: BatchFallbackOptions,
  badKind: BadKind,
): Promise<FaultCases> {
  const { faults } = options;
  const kinds = (['kill', 'freeze'] as const).filter((kind) => faults[kind]);
  const link = context.links.writer.proxy;
  const bad = new Map([[Math.floor(faults.batchSize / 2), badKind]]);
  const watcher = await StatementWatcher.open(watch.nodes, watch.role, watch.database);
  const slow = link.addToxic({ type: 'latency', latency: faults.linkLatencyMs });
  try {
    await context.links.settled();
    const rehearsal = await watcher.capture(() =>
      check.sendAndJudge(check.maker.make('before the faults', faults.batchSize, bad)),
    );
    const rehearsalStatements = rehearsal.events.reduce((n, e) => n + e.calls, 0);
    const result: FaultCases = { events: [], missed: [], rehearsalStatements, failedWhole: 0 };
    for (const kind of kinds) {
      const batch = check.maker.make(`${kind} during the fallback`, faults.batchSize, bad);
      const before = await watcher.calls();
      const started = performance.now();
      let answered = false;
      const sending = check.send(batch).finally(() => {
        answered = true;
      });
      const struck = await pollUntil(
        async () => answered || (await watcher.calls()) - before >= rehearsalStatements / 2,
        { timeoutMs: options.requestTimeoutMs, intervalMs: 5 },
      );
      // A fault that would land after the answer tests nothing: counted as missed, not applied.
      if (!struck || answered)
        result.missed.push(
          `${kind}: the batch was answered before half of its ${rehearsalStatements} statements had run`,
        );
      else result.events.push(await strike(kind, context, faults.freezeMs, performance.now() - started));
      const sent = await sending;
      await check.judge(sent, 'allowed');
      if (!answeredOk(sent)) {
        result.failedWhole++;
        await check.judge({ ...(await check.send(batch)), batch: { ...batch, name: `${batch.name}, sent again` } });
      }
    }
    return result;
  } finally {
    link.removeToxic(slow);
    await context.links.settled();
    await watcher.close();
  }
}

async function strike(kind: FaultKind, context: SuiteContext, freezeMs: number, t: number): Promise<FaultEvent> {
  const started = performance.now();
  if (kind === 'kill') {
    const link = context.links.writer.proxy;
    const reset = link.addToxic({ type: 'reset_peer', timeout: 0 });
    await context.links.settled();
    link.removeToxic(reset);
    await context.links.settled();
  } else {
    await context.topology.primary.pause();
    try {
      await sleep(freezeMs);
    } finally {
      await context.topology.primary.resume();
    }
  }
  return {
    t: Math.round(t),
    kind: kind === 'kill' ? 'reset_peer' : 'pause',
    target: kind === 'kill' ? context.links.writer.name : context.topology.primary.name,
    durationMs: Math.round(performance.now() - started),
  };
}
