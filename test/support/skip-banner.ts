// A vitest reporter (vitest.config.ts) that ends `vitest run` with how many tests were
// skipped on this machine, for which reason, and what would run them: a developer without
// a Docker engine sees that the containers and compose tests did not run, not only a
// "skipped" figure in the summary. The count comes from the skipped tests themselves (the
// reason test/support/skips.ts put in their meta, or a `ctx.skip(note)`), never from a list.
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import './skips.ts';
import { framed } from './banner-frame.ts';

export interface SkippedForAReason {
  reason: string;
  tests: number;
  /** What would run them, where the tests say. */
  toRunIt: string | undefined;
}

/** The skipped tests of a run that say why, counted by reason (a plain `.skip` says nothing and is left out). */
export function skipsByReason(modules: ReadonlyArray<TestModule>): SkippedForAReason[] {
  const byReason = new Map<string, SkippedForAReason>();
  for (const module of modules) {
    for (const test of module.children.allTests('skipped')) {
      const meta = test.meta();
      const result = test.result();
      const reason = meta.skippedFor ?? (result.state === 'skipped' ? result.note : undefined);
      if (!reason) continue;
      const counted = byReason.get(reason) ?? { reason, tests: 0, toRunIt: meta.toRunIt };
      counted.tests += 1;
      byReason.set(reason, counted);
    }
  }
  return [...byReason.values()];
}

/** The banner's lines, framed so that they are not lost under the summary; none when no test was skipped for a reason. */
export function skipBanner(skips: ReadonlyArray<SkippedForAReason>): string[] {
  if (skips.length === 0) return [];
  const lines = skips.flatMap(({ reason, tests, toRunIt }) => [
    `!!! ${tests} ${tests === 1 ? 'test' : 'tests'} SKIPPED: ${reason}`,
    ...(toRunIt ? [`!!!   to run ${tests === 1 ? 'it' : 'them'}: ${toRunIt}`] : []),
  ]);
  return framed(lines);
}

export default class SkipBanner implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = skipBanner(skipsByReason(modules));
    if (lines.length > 0) this.vitest?.logger.log(`\n${lines.join('\n')}\n`);
  }
}
