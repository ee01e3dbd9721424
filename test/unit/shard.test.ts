// `gate --shard i/n`: every suite and scenario in exactly one shard for any total, the same
// share on every machine, and shards as even as the work allows (harness/run/shard.ts).
import { describe, expect, test } from 'vitest';
import { checkShard, parseShard, shareOf, workHash } from '../../harness/run/shard.ts';

const suite = (name: string, destructive = false) => ({ suite: { name, requires: { destructive } } });

const SUITES = [
  suite('n-plus-one'),
  suite('replica-lost'),
  suite('primary-lost', true),
  suite('replica-lag'),
  suite('online-migration', true),
  suite('pool'),
  suite('team-checkout'),
];
const SCENARIOS = ['by-id', 'browse', 'checkout', 'search'];

/** Every shard's share of SUITES and SCENARIOS for `total` shards. */
const sharesOf = (total: number) =>
  Array.from({ length: total }, (_, i) => shareOf(SUITES, SCENARIOS, { index: i + 1, total }));

describe('the share', () => {
  test.each([1, 2, 3, 4, 5, 11, 12, 20])('every suite and scenario is in exactly one of %i shards', (total) => {
    const shares = sharesOf(total);
    const suites = shares.flatMap((s) => s.suites.map((p) => p.suite.name));
    const scenarios = shares.flatMap((s) => s.scenarios);
    expect(suites.sort()).toEqual(SUITES.map((s) => s.suite.name).sort());
    expect(scenarios.sort()).toEqual([...SCENARIOS].sort());
  });

  test.each([2, 3, 4, 5])('%i shards differ by one item at most, in all and of each kind', (total) => {
    const shares = sharesOf(total);
    const spread = (count: (share: (typeof shares)[number]) => number) => {
      const counts = shares.map(count);
      return Math.max(...counts) - Math.min(...counts);
    };
    expect(spread((s) => s.suites.length + s.scenarios.length)).toBeLessThanOrEqual(1);
    expect(spread((s) => s.suites.filter((p) => p.suite.requires.destructive).length)).toBeLessThanOrEqual(1);
    expect(spread((s) => s.suites.length)).toBeLessThanOrEqual(1);
    expect(spread((s) => s.scenarios.length)).toBeLessThanOrEqual(1);
  });

  test('the destructive suites (a topology each) go to different shards first', () => {
    const shares = sharesOf(2);
    expect(shares.map((s) => s.suites.filter((p) => p.suite.requires.destructive).length)).toEqual([1, 1]);
  });

  test("depends on the names only: the config's order changes neither the share nor the run's order in it", () => {
    const shuffled = shareOf([...SUITES].reverse(), [...SCENARIOS].reverse(), { index: 2, total: 3 });
    const share = shareOf(SUITES, SCENARIOS, { index: 2, total: 3 });
    expect(shuffled.suites.map((p) => p.suite.name).sort()).toEqual(share.suites.map((p) => p.suite.name).sort());
    expect(shuffled.scenarios.sort()).toEqual([...share.scenarios].sort());
    // Within the shard, the config's order is kept.
    expect(share.suites).toEqual(SUITES.filter((s) => share.suites.includes(s)));
  });

  test('is the same every time it is asked', () => {
    expect(sharesOf(3)).toEqual(sharesOf(3));
    expect(shareOf(SUITES, SCENARIOS, { index: 1, total: 1 })).toEqual({
      suites: SUITES,
      scenarios: SCENARIOS,
      notices: [],
    });
  });

  test('a suite and a scenario of the same name are two items', () => {
    const shares = [1, 2].map((index) => shareOf([suite('checkout')], ['checkout'], { index, total: 2 }));
    expect(shares.map((s) => [s.suites.length, s.scenarios.length])).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  test('more shards than items: the last shards get nothing', () => {
    const shares = Array.from({ length: 4 }, (_, i) =>
      shareOf([suite('n-plus-one')], ['by-id'], { index: i + 1, total: 4 }),
    );
    expect(shares.map((s) => s.suites.length + s.scenarios.length)).toEqual([1, 1, 0, 0]);
    expect(shares[3]!.notices).toEqual([
      'shard 4/4 has nothing to run: the 2 suite(s) and scenario(s) of the config went to shards 1–2; it passes, and `dbproof merge` counts it',
    ]);
    expect(shares[1]!.notices).toEqual([]);
  });
});

describe('--shard INDEX/TOTAL', () => {
  test('2/3 is the second of three shards', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, total: 3 });
    expect(parseShard('1/1')).toEqual({ index: 1, total: 1 });
  });

  test.each([
    ['4/3', /^--shard 4\/3: there are only 3 shard\(s\), give 1\/3 to 3\/3$/],
    ['0/2', /^--shard 0\/2: shards count from 1, give 1\/2 to 2\/2$/],
    ['1/0', /^--shard 1\/0: there must be at least 1 shard, e\.g\. --shard 2\/3/],
    ['x', /^--shard must be INDEX\/TOTAL, e\.g\. --shard 2\/3 for the second of three shards \(got 'x'\)$/],
    ['2', /^--shard must be INDEX\/TOTAL/],
    ['-1/3', /^--shard must be INDEX\/TOTAL/],
    ['1.5/3', /^--shard must be INDEX\/TOTAL/],
  ])('%s is refused with the fix', (text, message) => {
    expect(() => parseShard(text)).toThrow(message);
  });

  test("a script's planRun({ shard }) is checked the same way", () => {
    expect(() => checkShard({ index: 1.5, total: 3 })).toThrow(/^shard 1\.5\/3: give whole numbers/);
    expect(() => checkShard({ index: 3, total: 2 })).toThrow(/^shard 3\/2: there are only 2 shard\(s\)/);
  });
});

describe("the work's identity", () => {
  const scenarios = { 'by-id': { request: 'GET /x', rate: 50 } };
  const hash = workHash([{ name: 'n-plus-one', options: { sizes: [5, 25] } }], scenarios);

  test("does not depend on the config's order of suites or keys", () => {
    expect(
      workHash(
        [
          { name: 'pool', options: undefined },
          { name: 'n-plus-one', options: { repeats: 2, sizes: [5, 25] } },
        ],
        { b: { rate: 1, request: 'GET /b' }, a: {} },
      ),
    ).toBe(
      workHash(
        [
          { name: 'n-plus-one', options: { sizes: [5, 25], repeats: 2 } },
          { name: 'pool', options: undefined },
        ],
        { a: {}, b: { request: 'GET /b', rate: 1 } },
      ),
    );
  });

  test('changes with a suite, an option or a scenario', () => {
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(workHash([{ name: 'n-plus-one', options: { sizes: [5, 50] } }], scenarios)).not.toBe(hash);
    expect(workHash([{ name: 'pool', options: { sizes: [5, 25] } }], scenarios)).not.toBe(hash);
    expect(workHash([{ name: 'n-plus-one', options: { sizes: [5, 25] } }], {})).not.toBe(hash);
  });

  test('an option that is a function or holds itself still hashes', () => {
    const options: Record<string, unknown> = { check: function check() {} };
    options.self = options;
    expect(workHash([{ name: 'team', options }], {})).toMatch(/^[0-9a-f]{16}$/);
  });
});
