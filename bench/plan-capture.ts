/**
 * `npm run bench -- plan-capture`: what capturing plans costs the app. The reference app's
 * demo load (the inspection-by-id mix: 4 in 5 requests read an inspection, 1 in 5 its status)
 * with and without plan capture (auto_explain on every node as the query-plans suite turns it
 * on: log_min_duration 0, json, analyze with timing off, buffers, nested), in the same run,
 * alternated, median of 3 each:
 * - at the same rate (the open model: the mix at the demo's 100/s, the list at 200/s): requests/s answered and p99;
 * - as fast as it goes (the closed model, the list with 8 clients): the capacity capture takes away.
 * Target: at most 10 % lower throughput at the same rate.
 */
import { withPlanCapture, type PlanNodeAccess } from '../harness/capture/plan-capture.ts';
import { startTopology } from '../harness/index.ts';
import { runEngine } from '../load/engines/run.ts';
import type { EngineRequest } from '../load/engines/types.ts';
import { summarise } from '../load/summary.ts';
import { startReferenceTarget } from '../suites/support/reference-target.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ROUNDS = 3;

export async function benchPlanCapture(): Promise<void> {
  const topology = await startTopology({ replicas: 1, redis: true });
  try {
    const target = await startReferenceTarget(topology, { seed: { scale: 0.002, seed: 5 } });
    try {
      const nodes: PlanNodeAccess[] = [topology.primary, ...topology.replicas].map((n) => ({
        name: n.name,
        adminUrl: n.adminUrl,
        serverLog: n.serverLog!,
      }));
      const base = { url: target.context.app.url, durationMs: 5000, warmupMs: 1000 };
      // The demo's two scenarios: the mix (its reads of an inspection mostly answered from Redis) and the joined
      // list (every request a statement), each at a fixed rate, and the list as fast as 8 clients go.
      const mix: EngineRequest = {
        ...base,
        mix: [
          { request: 'GET /inspections/{id}', method: 'GET', path: '/inspections/{id}', weight: 4 },
          { request: 'GET /inspections/{id}/status', method: 'GET', path: '/inspections/{id}/status', weight: 1 },
        ],
        ids: { from: 1, to: 80, skew: 1.1 },
        rate: 100,
      };
      const joined: EngineRequest = { ...base, url: new URL('/inspections-joined?limit=20', base.url).toString() };
      const loads: Record<string, EngineRequest> = {
        'mix 100/s': mix,
        'list 200/s': { ...joined, rate: 200 },
        'list closed 8': { ...joined, connections: 8 },
      };
      const figures = Object.fromEntries(
        Object.keys(loads).map((name) => [
          name,
          { without: [] as { rps: number; p99: number }[], with: [] as { rps: number; p99: number }[] },
        ]),
      );
      const measure = async (request: EngineRequest) => {
        const summary = summarise(await runEngine(request), { rate: request.rate, connections: request.connections });
        return { rps: summary.rps, p99: summary.latencyMs.p99 };
      };
      for (let round = 0; round < ROUNDS; round++)
        for (const [name, request] of Object.entries(loads)) {
          const captured = () => withPlanCapture(nodes, () => measure(request));
          // Alternated: which goes first changes each round.
          if (round % 2 === 0) {
            figures[name]!.without.push(await measure(request));
            figures[name]!.with.push(await captured());
          } else {
            figures[name]!.with.push(await captured());
            figures[name]!.without.push(await measure(request));
          }
        }
      console.log(
        `plan-capture: the reference app's demo loads, 5 s after 1 s of warm-up, with and without auto_explain on ${nodes.length} nodes, median of ${ROUNDS} alternated rounds`,
      );
      for (const [name, { without, with: captured }] of Object.entries(figures)) {
        const rps = (xs: { rps: number }[]) => median(xs.map((x) => x.rps));
        const p99 = (xs: { p99: number }[]) => median(xs.map((x) => x.p99));
        const lower = (1 - rps(captured) / rps(without)) * 100;
        console.log(
          `  ${name.padEnd(13)} ${rps(without).toFixed(1).padStart(7)} → ${rps(captured).toFixed(1).padStart(7)} requests/s (${lower.toFixed(1)} % lower; target at most 10 % at the same rate)   p99 ${p99(without).toFixed(1)} → ${p99(captured).toFixed(1)} ms   (runs without: ${without.map((x) => x.rps.toFixed(0)).join(', ')}; with: ${captured.map((x) => x.rps.toFixed(0)).join(', ')})`,
        );
      }
    } finally {
      await target.stop();
    }
  } finally {
    await topology.stop();
  }
}
