// Results built without starting anything: a suite's result and a finished run of suites and
// loads, their verdicts gathered as the writers get them (withVerdicts), for the results tests.
import * as hdr from 'hdr-histogram-js';
import { atMost, judge, type Verdict } from '../../harness/budgets/index.ts';
import { RUN_SCHEMA_VERSION, type LoadResult, type RunResult, withVerdicts } from '../../harness/results/run-result.ts';
import { SCHEMA_VERSION, type SuiteResult } from '../../harness/results/schema.ts';

/** replica-lost's result on the reference app, with one budget that held or broke. */
export const suiteResult = (pass: boolean): SuiteResult => ({
  schemaVersion: SCHEMA_VERSION,
  suite: 'replica-lost',
  target: 'reference app',
  startedAt: new Date().toISOString(),
  durationMs: 1,
  pass,
  verdicts: [judge('x', atMost('errors', 0, 'count'), pass ? 0 : 1)],
  measurements: { errors: pass ? 0 : 1 },
  events: [],
  timelines: [],
  notes: [],
  findings: [],
});

/** An empty latency histogram, encoded as a load's (report.html draws it). */
const NO_LATENCIES = hdr.encodeIntoCompressedBase64(hdr.build());

/** A load scenario's result named `name` with these verdicts (its figures are placeholders). */
export const loadResult = (name: string, verdicts: Verdict[]): LoadResult => {
  const latencyMs = { p50: 1, p90: 1, p95: 1, p99: 1, 'p99.9': 1, max: 1, mean: 1 };
  return {
    name,
    request: 'GET /x',
    model: 'open',
    engine: 'dbproof-open',
    rate: 10,
    connections: null,
    durationMs: 1000,
    requests: 10,
    errors: 0,
    errorRate: 0,
    rps: 10,
    latencyMs,
    verdicts,
    buckets: [],
    histogram: NO_LATENCIES,
    endpoints: [],
  };
};

/** A finished run of these suites and loads; `extra` sets the run's other fields (runId, shard, configHash, incomplete …). */
export function finishedRun(
  suites: SuiteResult[],
  loads: RunResult['loads'],
  extra: Partial<Pick<RunResult, 'runId' | 'incomplete' | 'shard' | 'configHash' | 'startedAt' | 'finishedAt'>> = {},
): RunResult {
  return withVerdicts({
    schemaVersion: RUN_SCHEMA_VERSION,
    runId: 'r1',
    startedAt: 'now',
    finishedAt: 'now',
    incomplete: false,
    environment: { dbproof: '0', node: 'v20', platform: 'linux', cpus: 2, provider: 'native', app: 'app' },
    suites,
    loads,
    ...extra,
  });
}
