// The failed tests a vitest run named, and those that passed only when retried (the retry
// banner's, test/support/retry-banner.ts), read from its output line by line, so that
// scripts/test.mjs can say them again at the end of `npm test`: a CI log cut to its tail
// (the lanes' output runs to thousands of lines) still shows what failed, not only which lane.

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what it strips
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads vitest's summary of failures ("⎯ Failed Tests N ⎯", then `FAIL  file > test` and its
 * error, for each): `feed` takes the output's lines in order, `failures` gives each failed
 * test with the first line of its error.
 */
export function failedTestsReader() {
  const failures = [];
  const retried = [];
  let inSummary = false;
  let test;
  return {
    /** @param {string} line */
    feed(line) {
      const plain = line.replace(ANSI, '').trim();
      if (plain.startsWith('!!! RETRIED ')) retried.push({ test: plain.slice('!!! RETRIED '.length), error: '' });
      else if (plain.startsWith('!!!   first attempt: ') && retried.length > 0)
        retried[retried.length - 1].error = plain.slice('!!!   first attempt: '.length);
      else if (/^⎯+ Failed (Tests|Suites) \d+ ⎯+$/.test(plain)) inSummary = true;
      else if (inSummary && plain.startsWith('FAIL ')) test = plain.replace(/^FAIL\s+/, '');
      else if (inSummary && test !== undefined && plain !== '') {
        failures.push({ test, error: plain.slice(0, 300) });
        test = undefined;
      }
    },
    /** @returns {{ test: string, error: string }[]} */
    failures: () => [...failures],
    /** The tests that failed, then passed on a retry, each with its first attempt's error. */
    retried: () => [...retried],
  };
}
