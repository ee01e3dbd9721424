// "The health check answers in < 50 ms and tells the truth": the reference app's /live and
// /ready under load while its link to the primary (or Redis) goes silent, and its naive
// variants, each failing the verdict it is there for.
import { describe, expect, test } from 'vitest';
import { referenceTargets, runOn } from '../support/reference-target.ts';
import { verdictLines, verdictOn } from '../support/expect-verdicts.ts';
import { health } from './health.ts';
import { workerTopology } from '../../harness/vitest/index.ts';

const topology = workerTopology();
const seed = { scale: 0.001, seed: 18 };
const targets = referenceTargets(topology, {
  good: { name: 'reference app', seed },
  constant: { name: 'reference app, readiness always 200', env: { EXAMPLE_READINESS: 'constant' }, seed },
  deep: { name: 'reference app, liveness asking the database', env: { EXAMPLE_LIVENESS: 'deep' }, seed },
  slow: { name: 'reference app, 300 ms slower', env: { EXAMPLE_EXTRA_LATENCY_MS: '300' }, seed },
});

// Timing budgets generous for a shared 2-core machine: the claims under test are the flips, not the speed.
const generous = { budgets: { p99Ms: 250 } };

describe('health', () => {
  test('readiness turns 503 soon after the primary goes silent and 200 soon after it heals; liveness stays 200', async () => {
    const result = await runOn(health, targets.good, generous);
    expect(result.pass, verdictLines(result)).toBe(true);
    expect(result.measurements.readinessFlipMs).toBeGreaterThan(0);
    expect(result.events.map((e) => `${e.kind} ${e.target}`)).toEqual(['blackhole primary', 'heal primary']);
  });

  test('Redis lost: readiness flips on it too, and liveness does not', async () => {
    const result = await runOn(health, targets.good, { ...generous, lose: 'redis', load: false });
    expect(result.pass, verdictLines(result)).toBe(true);
  });

  test('every instance is probed: the one whose readiness always answers 200 never flips, and the verdict names it', async () => {
    // Two instances behind one balancer: the good app, whose primary goes silent, and one that answers 200 whatever happens.
    const { good, constant } = targets;
    const urls = [good.context.app.url, constant.context.app.url];
    const both = { ...good, context: { ...good.context, app: { url: urls[0]!, urls } } };
    // 4.5 s instead of 9: the claim is that instance 2 answers 2xx to every probe of the
    // fault, and 2 s of it is 40 probes every 50 ms (the good instance flips within its
    // 500 ms check). The time back after the heal and the warm-up's p99 are not asserted here.
    const result = await runOn(health, both, {
      ...generous,
      load: false,
      durationMs: 4500,
      warmUpMs: 500,
      faultAtMs: 1500,
      downForMs: 2000,
    });
    const flip = verdictOn(result, 'readinessFlipMs');
    expect(flip.pass, verdictLines(result)).toBe(false);
    expect(flip.measured).toBeNull();
    expect(flip.evidence).toBe(
      `instance 2 (${urls[1]}): readiness answered 2xx to all ${result.measurements.readinessProbesDuringFault} probes while the primary was unreachable`,
    );
    expect(result.measurements.instances).toBe(2);
    expect(verdictOn(result, 'livenessFailures').pass, verdictLines(result)).toBe(true);
  });

  test('a liveness that asks the database fails while it is away (an orchestrator would restart the app)', async () => {
    // 5 s instead of 9: the app answers 503 within its 500 ms check of the fault, so 2 s of
    // it is ~30 failing liveness probes, and readiness' flip (budget 2 s) is seen well inside it.
    const result = await runOn(health, targets.deep, {
      ...generous,
      durationMs: 5000,
      faultAtMs: 2000,
      downForMs: 2000,
    });
    const liveness = verdictOn(result, 'livenessFailures');
    expect(liveness.pass, verdictLines(result)).toBe(false);
    expect(liveness.measured).toBeGreaterThan(0);
    expect(liveness.evidence).toMatch(/^last failure: GET \/live: HTTP 503 .*primary/);
    expect(verdictOn(result, 'readinessFlipMs').pass, verdictLines(result)).toBe(true);
  });

  test('probes slower than the budget fail the p99 verdict', async () => {
    // 3 s instead of 9: every answer is 300 ms late by construction, so the p99 of the
    // ~30 probes answered from 0.5 s to the fault at 1.5 s is at least 300 ms, however many.
    const result = await runOn(health, targets.slow, {
      ...generous,
      load: false,
      durationMs: 3000,
      warmUpMs: 500,
      faultAtMs: 1500,
      downForMs: 1000,
    });
    const p99 = verdictOn(result, 'p99Ms');
    expect(p99.pass, verdictLines(result)).toBe(false);
    expect(p99.measured).toBeGreaterThanOrEqual(300);
  });

  test('a readiness path that 404s is bad input, in one line', async () => {
    await expect(
      runOn(health, targets.good, {
        readiness: 'GET /nope',
        load: false,
        // The bad input is read from the probes before the fault: 0.5 s of them is ~10 404s.
        durationMs: 1500,
        warmUpMs: 0,
        faultAtMs: 500,
        downForMs: 500,
      }),
    ).rejects.toThrow(
      /^suite health: GET \/nope never answered 2xx before the fault \(\d+ probes; GET \/nope: HTTP 404/,
    );
  });
});
