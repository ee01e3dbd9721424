// A vitest reporter (vitest.config.ts) that ends `vitest run` with the tests that passed
// only on a retry, each with its first attempt's error. The timed tests are retried once in
// CI (vitest.config.ts says why); a retry that hid the flake would leave nobody the wiser, so
// every one is named here, and scripts/test.mjs says them again at the end of `npm test`.
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { framed } from './banner-frame.ts';

export interface PassedOnRetry {
  /** `file > describe > test`, as vitest names a failure. */
  test: string;
  /** The first line of the first attempt's error. */
  firstError: string;
}

/** The tests of a run that failed, then passed when retried. */
export function passedOnRetry(modules: ReadonlyArray<TestModule>): PassedOnRetry[] {
  const found: PassedOnRetry[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests('passed')) {
      if (!test.diagnostic()?.flaky) continue;
      const error = test.result().errors?.[0];
      found.push({
        test: `${module.relativeModuleId} > ${test.fullName}`,
        firstError: error ? `${error.name ?? 'Error'}: ${error.message.split('\n')[0]}` : 'no error recorded',
      });
    }
  }
  return found;
}

/** The banner's lines; none when no test needed its retry. */
export function retryBanner(retried: ReadonlyArray<PassedOnRetry>): string[] {
  if (retried.length === 0) return [];
  const lines = [
    `!!! ${retried.length} ${retried.length === 1 ? 'test' : 'tests'} passed only when retried:`,
    ...retried.flatMap(({ test, firstError }) => [
      `!!! RETRIED ${test}`,
      `!!!   first attempt: ${firstError.slice(0, 300)}`,
    ]),
  ];
  return framed(lines);
}

export default class RetryBanner implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = retryBanner(passedOnRetry(modules));
    if (lines.length > 0) this.vitest?.logger.log(`\n${lines.join('\n')}\n`);
  }
}
