import { z } from 'zod';
import { UsageError } from '../harness/errors.ts';
import type { LoadResult } from '../harness/results/run-result.ts';
import { judgeLoad, parseBudgets } from './budgets.ts';
import { runEngine } from './engines/run.ts';
import { summarise } from './summary.ts';

/**
 * A load scenario in the config: one request (its `{id}` drawn from the seeded ids), an
 * open model (`rate`) or a closed one (`connections`), a duration and a warm-up left out
 * of the figures, and budgets written as on the command line.
 */
export const scenarioSchema = z
  .object({
    request: z.string().regex(/^(GET|DELETE)\s+\/\S*$/, "a request such as 'GET /inspections/{id}' (GET or DELETE: no body)"),
    ids: z.object({ from: z.number().int().min(1).default(1), to: z.number().int().min(1), skew: z.number().min(0).max(5).default(1.1) }).strict().optional(),
    rate: z.number().positive().max(100_000).optional(),
    connections: z.number().int().min(1).max(10_000).optional(),
    durationMs: z.number().int().min(100).max(3_600_000).default(10_000),
    warmupMs: z.number().int().min(0).max(600_000).default(1000),
    timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
    /** e.g. 'p99=200ms,errors=0.1%,rps=50' (see `dbproof load --help`). */
    budgets: z.string().default(''),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    if (scenario.rate && scenario.connections) ctx.addIssue({ code: 'custom', path: ['rate'], message: 'give rate (open model) or connections (closed model), not both' });
    if (scenario.budgets) {
      try {
        parseBudgets(scenario.budgets);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['budgets'], message: (error as Error).message.replace(/^--budget:? ?/, '') });
      }
    }
  });

export type Scenario = z.output<typeof scenarioSchema>;

/** Runs the scenario against the app (in the engine's own process) and judges its budgets. */
export async function runScenario(appUrl: string, name: string, scenario: Scenario): Promise<LoadResult> {
  const [method, path] = scenario.request.split(/\s+/) as [string, string];
  const connections = scenario.rate ? undefined : (scenario.connections ?? 10);
  const report = await runEngine({ url: `${appUrl}${path}`, method, rate: scenario.rate, connections, durationMs: scenario.durationMs, warmupMs: scenario.warmupMs, timeoutMs: scenario.timeoutMs, ids: scenario.ids });
  const summary = summarise(report, { rate: scenario.rate, connections });
  if (!Number.isFinite(summary.rps)) throw new UsageError(`scenario ${name} measured nothing`);
  return { name, request: scenario.request, ...summary, verdicts: judgeLoad(scenario.budgets ? parseBudgets(scenario.budgets, scenario.request) : [], summary), buckets: report.buckets, histogram: report.histogram };
}
