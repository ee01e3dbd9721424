// Judging with the machine's noise in view (issue 13): a time-dependent budget that broke
// while the machine was saturated is tried again, and is INCONCLUSIVE when no attempt was
// quiet; a budget that does not depend on time is never excused.
import { describe, expect, test } from 'vitest';
import { atMost, dependsOnTime, formatVerdict, judge, verdictWord, type Verdict } from '../../harness/budgets/index.ts';
import { runAttempts, type Attempt, type AttemptNoise } from '../../harness/run/attempts.ts';

const slow = (ms: number) => judge('p99 stays within 100 ms', atMost('p99Ms', 100, 'ms'), ms);
const lost = (n: number) => judge('no acknowledged write is lost', atMost('lostWrites', 0, 'count'), n);
const BUSY: AttemptNoise = { saturated: true, evidence: 'probe woke up to 400 ms late' };
const QUIET: AttemptNoise = { saturated: false, evidence: 'probe woke up at most 2 ms late' };

/** Attempts that return the given verdicts and noise in turn, and how many ran. */
function scripted(attempts: [Verdict[], AttemptNoise | undefined][]) {
  let ran = 0;
  const attempt = async (n: number): Promise<Attempt<{ verdicts: Verdict[] }>> => {
    ran = n;
    const [verdicts, noise] = attempts[n - 1]!;
    return { result: { verdicts }, noise };
  };
  return { attempt, ran: () => ran };
}

describe('runAttempts', () => {
  test.each([
    ['all hold on a busy machine: final at once', [[[slow(50)], BUSY]], 2, 1, 'PASS'],
    ['a latency breaks on a quiet machine: FAIL at once', [[[slow(500)], QUIET]], 2, 1, 'FAIL'],
    [
      'a latency breaks, busy; then holds on a quiet machine: PASS',
      [
        [[slow(500)], BUSY],
        [[slow(50)], QUIET],
      ],
      2,
      2,
      'PASS',
    ],
    [
      'busy, then breaks again on a quiet machine: FAIL',
      [
        [[slow(500)], BUSY],
        [[slow(400)], QUIET],
      ],
      2,
      2,
      'FAIL',
    ],
    [
      'busy in every attempt: INCONCLUSIVE after 1 + retries',
      [
        [[slow(500)], BUSY],
        [[slow(500)], BUSY],
        [[slow(600)], BUSY],
      ],
      2,
      3,
      'INCONCLUSIVE',
    ],
    ['no retries allowed, busy: INCONCLUSIVE', [[[slow(500)], BUSY]], 0, 1, 'INCONCLUSIVE'],
    ['a lost write on a busy machine is a FAIL, never retried', [[[lost(1), slow(500)], BUSY]], 2, 1, 'FAIL'],
    ['an unwatched machine excuses nothing', [[[slow(500)], undefined]], 2, 1, 'FAIL'],
  ] as [string, [Verdict[], AttemptNoise | undefined][], number, number, string][])(
    '%s',
    async (_name, attempts, retries, expectedRuns, word) => {
      const script = scripted(attempts);
      const { final, earlier } = await runAttempts(script.attempt, retries);
      expect(script.ran()).toBe(expectedRuns);
      expect(earlier).toHaveLength(expectedRuns - 1);
      const broken = final.verdicts.filter((v) => !v.pass);
      const overall = broken.length === 0 ? 'PASS' : broken.some((v) => !v.inconclusive) ? 'FAIL' : 'INCONCLUSIVE';
      expect(overall).toBe(word);
    },
  );

  test('an inconclusive verdict is not a pass, and says what the machine did', async () => {
    const { final } = await runAttempts(scripted([[[slow(500)], BUSY]]).attempt, 0);
    const [verdict] = final.verdicts;
    expect(verdict).toMatchObject({ pass: false, inconclusive: true, measured: 500 });
    expect(verdict!.evidence).toContain('the machine was saturated: probe woke up to 400 ms late');
    expect(verdictWord(verdict!)).toBe('INCONCLUSIVE');
    expect(formatVerdict(verdict!)).toMatch(/^INCONCLUSIVE {2}p99 stays within 100 ms/);
  });

  test('each retry is announced with the reason', async () => {
    const said: string[] = [];
    await runAttempts(
      scripted([
        [[slow(500)], BUSY],
        [[slow(50)], QUIET],
      ]).attempt,
      2,
      (why) => {
        said.push(why);
      },
    );
    expect(said).toEqual([
      '1 time-dependent budget(s) broke while the machine was saturated (probe woke up to 400 ms late); attempt 2 of 3',
    ]);
  });
});

describe('dependsOnTime', () => {
  test.each([
    ['p99Ms', 'ms', true],
    ['timeToRecoverMs', 'ms', true],
    ['errorsDuringFault', 'count', true],
    ['rps', 'count', true],
    ['lostWrites', 'count', false],
    ['staleReads', 'count', false],
    ['statementsPerItem', 'count', false],
    ['leakedConnections', 'count', false],
    ['failuresBeforeOpen', 'count', false],
  ] as const)('%s → %s', (metric, unit, expected) => {
    expect(dependsOnTime(atMost(metric, 1, unit))).toBe(expected);
  });
});
