// The failed tests a vitest run named, and those that passed only when retried (the retry
// banner's, test/support/retry-banner.ts), read from its output line by line, so that
// scripts/test.mjs can say them again at the end of `npm test`: a CI log cut to its tail
// (the lanes' output runs to thousands of lines) still shows what failed, not only which lane.

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what it strips
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads vitest's summary of failures ("⎯ Failed Tests N ⎯", then `FAIL  file > test` and its
 * error, for each; tests failing with the same error share it, their FAIL lines one after
 * another): `feed` takes one stream's lines in order (vitest writes the summary to stderr
 * and the banners to stdout: a reader per stream, so neither cuts into the other),
 * `failures` gives each failed test once, with the first line of its error (a test failing
 * on both attempts of a retry is printed twice: its errors are joined).
 */
export function failedTestsReader() {
  /** @type {Map<string, string>} each failed test, by name, and its errors' first lines */
  const failures = new Map();
  const retried = [];
  let inSummary = false;
  /** @type {string[]} the FAIL lines read since the last error */
  let pending = [];
  return {
    /** @param {string} line */
    feed(line) {
      const plain = line.replace(ANSI, '').trim();
      if (plain.startsWith('!!! RETRIED ')) retried.push({ test: plain.slice('!!! RETRIED '.length), error: '' });
      else if (plain.startsWith('!!!   first attempt: ') && retried.length > 0)
        retried[retried.length - 1].error = plain.slice('!!!   first attempt: '.length);
      else if (/^⎯+ Failed (Tests|Suites) \d+ ⎯+$/.test(plain)) inSummary = true;
      else if (inSummary && plain.startsWith('FAIL ')) pending.push(plain.replace(/^FAIL\s+/, ''));
      else if (inSummary && pending.length > 0 && plain !== '') {
        const error = plain.slice(0, 300);
        for (const test of pending) {
          const earlier = failures.get(test);
          failures.set(test, earlier === undefined || earlier === error ? error : `${earlier}; then: ${error}`);
        }
        pending = [];
      }
    },
    /** @returns {{ test: string, error: string }[]} */
    failures: () => [...failures].map(([test, error]) => ({ test, error })),
    /** The tests that failed, then passed on a retry, each with its first attempt's error. */
    retried: () => [...retried],
  };
}
