// The noise monitor's pure parts (issue 13): reading /proc's text, sharing rates out over
// buckets, whose CPU is whose, and when a bucket and a window count as saturated.
import { describe, expect, test } from 'vitest';
import { assignParties } from '../../harness/noise/parties.ts';
import { parseCpuPressure, parseCpuTimes, parseProcessStat } from '../../harness/noise/proc.ts';
import {
  engineLateness,
  isSaturatedBucket,
  type NoiseBucket,
  noiseBetween,
  noiseRecordSchema,
  percentile,
  SATURATION,
  type SaturationThresholds,
  summariseNoise,
} from '../../harness/noise/record.ts';
import { BucketSeries } from '../../harness/noise/series.ts';

/** Thresholds of the tests' own, so they read without looking SATURATION up. */
const T: SaturationThresholds = {
  probeP99Ms: 20,
  cpuPressure: 0.5,
  othersCores: 0.5,
  steal: 0.2,
  othersShare: 0.75,
  windowShare: 0.1,
  windowBuckets: 2,
};
/** 0.6 cores used by dbproof, the app and Postgres, on a 2-core machine; `machine` says how busy it was besides. */
const busyElsewhere = (others: number) => ({
  dbproof: 0.1,
  app: 0.2,
  postgres: 0.3,
  machine: 0.6 + others,
  idle: 2 - 0.6 - others,
});

function bucket(t: number, fields: Partial<NoiseBucket> = {}): NoiseBucket {
  return {
    t,
    probeMaxMs: 0.3,
    probeP99Ms: 0.2,
    wakeups: 90,
    cpuPressure: 0.05,
    steal: 0,
    cpu: busyElsewhere(0.2),
    ...fields,
  };
}

const quiet = (count: number, from = 0) => Array.from({ length: count }, (_, i) => bucket((from + i) * 100));
const stalled = (t: number) => bucket(t, { probeMaxMs: 400, probeP99Ms: 400, wakeups: 0 });

describe('/proc/pressure/cpu', () => {
  test.each([
    [
      'the some line’s total, in µs',
      'some avg10=14.56 avg60=14.89 avg300=14.76 total=145659360\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
      145659360,
    ],
    ['an idle machine', 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n', 0],
    ['no some line (not the file)', 'full avg10=0.00 avg60=0.00 avg300=0.00 total=12\n', null],
    ['empty', '', null],
  ])('%s', (_, text, expected) => {
    expect(parseCpuPressure(text)).toBe(expected);
  });
});

describe('/proc/stat', () => {
  test.each([
    [
      'ten columns: busy is user+nice+system+irq+softirq, steal the eighth',
      'cpu  52125 160 15824 516699 3291 0 607 21235 0 0\ncpu0 26000 80 7900 258000 1600 0 300 10600 0 0\n',
      {
        busy: 52125 + 160 + 15824 + 607,
        idle: 516699 + 3291,
        total: 52125 + 160 + 15824 + 607 + 516699 + 3291 + 21235,
        steal: 21235,
      },
    ],
    [
      'an old kernel with seven columns: no steal',
      'cpu  10 0 5 100 1 0 2\n',
      { busy: 17, idle: 101, total: 118, steal: null },
    ],
    ['no cpu line (cpu0 alone is not the machine)', 'cpu0 10 0 5 100 1 0 2 0\nintr 5\n', null],
  ])('%s', (_, text, expected) => {
    expect(parseCpuTimes(text)).toEqual(expected);
  });
});

describe('/proc/<pid>/stat', () => {
  const rest = 'S 1 2 3 0 -1 4194560 100 0 0 0 70 30 0 0 20 0 1 0 316687 3133440 407';
  test.each([
    ['a process', `28220 (node) ${rest}`, { pid: 28220, ppid: 1, name: 'node', cpuTicks: 100, startTime: 316687 }],
    [
      'a command name with spaces and parentheses',
      `77 (a) b (c)) ${rest}`,
      { pid: 77, ppid: 1, name: 'a) b (c)', cpuTicks: 100, startTime: 316687 },
    ],
    ['a line cut short', '77 (node) S 1 2', null],
    ['not a stat line', 'garbage', null],
  ])('%s', (_, text, expected) => {
    expect(parseProcessStat(text)).toEqual(expected);
  });
});

describe('whose CPU is whose', () => {
  // 1 init → 10 dbproof → {11 probe, 20 app → 21 app worker, 30 postmaster → 31 backend}; 40 a stranger.
  const parents = new Map([
    [1, 0],
    [10, 1],
    [11, 10],
    [20, 10],
    [21, 20],
    [30, 10],
    [31, 30],
    [40, 1],
  ]);

  test('the app and Postgres are claimed out of dbproof’s tree; dbproof keeps the rest of it', () => {
    const parties = assignParties(parents, { dbproof: [10], app: [20], postgres: [30] });
    expect(Object.fromEntries(parties)).toEqual({
      10: 'dbproof',
      11: 'dbproof',
      20: 'app',
      21: 'app',
      30: 'postgres',
      31: 'postgres',
    });
  });

  test('a pid that is not running is skipped, and a process named twice counts once', () => {
    const parties = assignParties(parents, { dbproof: [10, 99], app: [20, 21], postgres: [] });
    expect(parties.get(21)).toBe('app');
    expect(parties.get(30)).toBe('dbproof');
    expect(parties.has(99)).toBe(false);
    expect(parties.has(40)).toBe(false);
  });

  test("a container engine's processes count as the topology's by name, each on its own, never over a tree already claimed", () => {
    // 40 is dockerd, 50 a container shim with someone else's container (51) below it, 11 a docker-proxy dbproof started.
    const withEngine = new Map([...parents, [50, 1], [51, 50]]);
    const names = new Map([
      [40, 'dockerd'],
      [50, 'containerd-shim'],
      [51, 'postgres'],
      [11, 'docker-proxy'],
    ]);
    const roots = {
      dbproof: [10],
      app: [20],
      postgres: [30],
      postgresNames: ['dockerd', 'containerd-shim', 'docker-proxy'],
    };
    const parties = assignParties(withEngine, roots, names);
    expect(parties.get(40)).toBe('postgres');
    expect(parties.get(50)).toBe('postgres');
    expect(parties.has(51)).toBe(false);
    expect(parties.get(11)).toBe('dbproof');
    // Without the names (the native provider), the same processes are someone else's.
    expect(assignParties(withEngine, { dbproof: [10], app: [20], postgres: [30] }, names).has(40)).toBe(false);
  });
});

describe('rates shared out over buckets', () => {
  test('an interval straddling two buckets counts in each by its overlap', () => {
    const series = new BucketSeries(100);
    series.add(0, 50, 1);
    series.add(50, 150, 0); // 50 ms in bucket 0, 50 ms in bucket 1
    series.add(150, 200, 1);
    expect(series.at(0)).toBeCloseTo((1 * 50 + 0 * 50) / 100);
    expect(series.at(1)).toBeCloseTo((0 * 50 + 1 * 50) / 100);
  });

  test('a bucket no interval covered has no value, not zero', () => {
    const series = new BucketSeries(100);
    series.add(0, 100, 0.5);
    series.add(300, 400, 0.5);
    expect(series.at(1)).toBeNull();
    expect(series.at(3)).toBe(0.5);
  });
});

describe('a saturated bucket', () => {
  test.each([
    ['a quiet bucket', bucket(0), false],
    ['probe p99 above the threshold', bucket(0, { probeP99Ms: 21 }), true],
    ['probe p99 at the threshold', bucket(0, { probeP99Ms: 20 }), false],
    [
      'CPU pressure above the threshold, 0.5 cores busy elsewhere',
      bucket(0, { cpuPressure: 0.51, cpu: busyElsewhere(0.5) }),
      true,
    ],
    [
      'CPU pressure above the threshold, made by dbproof, the app and Postgres alone (a slow app, not noise)',
      bucket(0, { cpuPressure: 0.9, cpu: busyElsewhere(0.2) }),
      false,
    ],
    ['CPU pressure above the threshold, a fifth of the CPU stolen', bucket(0, { cpuPressure: 0.9, steal: 0.2 }), true],
    [
      'CPU pressure above the threshold, who used the machine unknown',
      bucket(0, { cpuPressure: 0.9, cpu: { ...busyElsewhere(0), machine: null, idle: null } }),
      true,
    ],
    [
      'CPU pressure at the threshold, the machine busy elsewhere',
      bucket(0, { cpuPressure: 0.5, cpu: busyElsewhere(1.2) }),
      false,
    ],
    ['no pressure file, probe quiet', bucket(0, { cpuPressure: null, cpu: busyElsewhere(1.2) }), false],
    [
      'someone else holding 80 % of the machine, no pressure (nothing of ours wanted a CPU yet)',
      bucket(0, { cpuPressure: 0.05, cpu: busyElsewhere(1.6) }),
      true,
    ],
    [
      'someone else holding 60 % of the machine, no pressure',
      bucket(0, { cpuPressure: 0.05, cpu: busyElsewhere(1.2) }),
      false,
    ],
    [
      'the probe lost, pressure high, the machine busy elsewhere',
      bucket(0, { probeMaxMs: null, probeP99Ms: null, cpuPressure: 0.9, cpu: busyElsewhere(1) }),
      true,
    ],
    ['steal alone does not saturate (the probe sees what steal costs)', bucket(0, { steal: 0.4 }), false],
  ])('%s: %s', (_, input, expected) => {
    expect(isSaturatedBucket(input, T)).toBe(expected);
  });
});

describe('a saturated window', () => {
  test.each([
    ['no saturated bucket', quiet(10), 0, false],
    ['a single bad bucket among 5 (20 %) is not', [...quiet(4), stalled(400)], 1, false],
    ['2 of 100 buckets (2 %) are not', [...quiet(98), stalled(9800), stalled(9900)], 2, false],
    [
      '2 s stalled of a 10 s window is',
      [...quiet(80), ...Array.from({ length: 20 }, (_, i) => stalled(i * 100))],
      20,
      true,
    ],
    ['2 of 10 buckets (20 %) is', [...quiet(8), stalled(800), stalled(900)], 2, true],
  ])('%s', (_, buckets, saturatedBuckets, saturated) => {
    const summary = summariseNoise(buckets, T);
    expect(summary.buckets).toBe(buckets.length);
    expect(summary.saturatedBuckets).toBe(saturatedBuckets);
    expect(summary.saturated).toBe(saturated);
  });

  test('the summary’s figures and its one line of evidence', () => {
    const buckets = [
      ...quiet(8),
      bucket(800, { probeMaxMs: 212, probeP99Ms: 48, cpuPressure: 0.9, cpu: busyElsewhere(1.2) }),
      bucket(900, { probeMaxMs: 30, probeP99Ms: 25, cpuPressure: 0.85, steal: 0.2, cpu: busyElsewhere(1.2) }),
    ];
    const summary = summariseNoise(buckets, T);
    expect(summary).toMatchObject({ probeMaxMs: 212, probeP99Ms: 48, saturatedBuckets: 2, saturated: true });
    expect(summary.cpuPressureMean).toBeCloseTo((8 * 0.05 + 0.9 + 0.85) / 10);
    expect(summary.stealMean).toBeCloseTo(0.02);
    expect(summary.cpuMean).toEqual({
      dbproof: expect.closeTo(0.1),
      app: expect.closeTo(0.2),
      postgres: expect.closeTo(0.3),
      machine: expect.closeTo((8 * 0.8 + 2 * 1.8) / 10),
      idle: expect.closeTo((8 * 1.2 + 2 * 0.2) / 10),
    });
    expect(summary.evidence).toBe(
      '2 of 10 buckets saturated: probe woke up to 212 ms late (p99 48 ms); CPU pressure 22 % of the time; steal 2 %; 0.4 cores busy outside dbproof, the app and Postgres',
    );
    expect(summary.evidence).not.toContain('\n');
  });

  test('without pressure, steal, machine figures or probe, the summary says what it has', () => {
    const buckets = quiet(3).map((b) => ({
      ...b,
      probeMaxMs: null,
      probeP99Ms: null,
      cpuPressure: null,
      steal: null,
      cpu: { ...b.cpu, machine: null, idle: null },
    }));
    const summary = summariseNoise(buckets, T);
    expect(summary).toMatchObject({ probeMaxMs: null, probeP99Ms: null, cpuPressureMean: null, stealMean: null });
    expect(summary.evidence).toBe('0 of 3 buckets saturated: no probe');
  });

  test('no buckets: not saturated, and said so', () => {
    expect(summariseNoise([], T)).toMatchObject({
      buckets: 0,
      saturated: false,
      evidence: 'no noise measured in this window',
    });
  });

  test('the thresholds default to SATURATION', () => {
    const buckets = [...quiet(5), stalled(500), stalled(600)];
    expect(summariseNoise(buckets)).toEqual(summariseNoise(buckets, SATURATION));
  });
});

describe('the noise of a window', () => {
  // 0..3 s; the machine stalled from 1 s to 1.5 s.
  const buckets = quiet(30).map((b) => (b.t >= 1000 && b.t < 1500 ? stalled(b.t) : b));
  const record = { bucketMs: 100, buckets };

  test.each([
    ['the window of the stall', 1000, 1500, 5, true],
    ['a window before it', 0, 1000, 0, false],
    ['a window after it', 1500, 3000, 0, false],
    ['a window around it: 5 of 20', 500, 2500, 5, true],
    ['a window cutting buckets takes each bucket it touches: one bad of 2', 950, 1050, 1, false],
    ['an empty window', 1200, 1200, 0, false],
  ])('%s', (_, from, to, saturatedBuckets, saturated) => {
    const summary = noiseBetween(record, from, to, T);
    expect(summary.saturatedBuckets).toBe(saturatedBuckets);
    expect(summary.saturated).toBe(saturated);
  });

  test('the buckets counted are those overlapping the window', () => {
    expect(noiseBetween(record, 950, 1050, T).buckets).toBe(2);
    expect(noiseBetween(record, 1000, 1100, T).buckets).toBe(1);
  });
});

describe('the record in a results file', () => {
  const record = {
    startedAt: '2025-01-01T00:00:00.000Z',
    bucketMs: 100,
    cores: 2,
    buckets: [...quiet(3), stalled(300)],
    summary: summariseNoise([...quiet(3), stalled(300)], T),
  };

  test('survives JSON and the schema unchanged', () => {
    expect(noiseRecordSchema.parse(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  test.each([
    ['a bucket without its time', { ...record, buckets: [{ ...record.buckets[0], t: undefined }] }],
    ['a summary without evidence', { ...record, summary: { ...record.summary, evidence: undefined } }],
    ['a probe figure as text', { ...record, buckets: [{ ...record.buckets[0], probeMaxMs: '3' }] }],
  ])('refuses %s', (_, bad) => {
    expect(noiseRecordSchema.safeParse(bad).success).toBe(false);
  });
});

test.each([
  [[1], 0.99, 1],
  [[5, 1, 3], 0.5, 3],
  [Array.from({ length: 100 }, (_, i) => i + 1), 0.99, 99],
  [Array.from({ length: 90 }, (_, i) => i + 1), 0.99, 90],
])('percentile(%j, %s) = %s (nearest rank)', (values, q, expected) => {
  expect(percentile(values, q)).toBe(expected);
});

describe("the load engine's own lateness", () => {
  const buckets = (late: number[]) => late.map((sendLateMs) => ({ sendLateMs }));

  test('requests sent more than the probe threshold late in over 10 % of the buckets (and at least 2): saturated', () => {
    const judged = engineLateness(buckets([1, 2, 80, 120, 1, 1, 1, 1, 1, 1, 1, 1]))!;
    expect(judged.saturated).toBe(true);
    expect(judged.evidence).toBe('the load engine sent up to 120 ms late (2 of 12 buckets over 50 ms)');
  });

  test('one late bucket, or lateness under the threshold, is not', () => {
    expect(engineLateness(buckets([1, 200, 1, 1]))!.saturated).toBe(false);
    expect(engineLateness(buckets([40, 45, 49, 50]))!.saturated).toBe(false);
  });

  test('buckets that do not say how late their engine was (k6, an old result) judge nothing', () => {
    expect(engineLateness([{}, {}])).toBeUndefined();
    expect(engineLateness([])).toBeUndefined();
  });
});
