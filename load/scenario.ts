import { z } from 'zod';
import { InfrastructureError, UsageError } from '../harness/errors.ts';
import { parseRequestLine, requestString } from '../harness/http/request.ts';
import type { LoadResult } from '../harness/results/run-result.ts';
import { judgeLoad, parseBudgets } from '../harness/budgets/traffic.ts';
import { seenAnswers } from '../harness/http/seen.ts';
import { runEngine } from './engines/run.ts';
import { runK6 } from './k6/run.ts';
import type { EngineProgress, MixEntry } from './engines/types.ts';
import { summarise, summariseEndpoint } from './summary.ts';

/** A scenario sends no body, so only the methods that need none. */
const requestRules = {
  methods: ['GET', 'DELETE'],
  hint: "a request such as 'GET /inspections/{id}' (GET or DELETE: no body)",
} as const;

function checkBudgets(text: string | undefined, ctx: z.RefinementCtx, path: (string | number)[]): void {
  if (!text) return;
  try {
    parseBudgets(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', path, message: (error as Error).message.replace(/^--budget:? ?/, '') });
  }
}

const mixEntrySchema = z
  .object({
    request: requestString(requestRules),
    /** Relative: weights 3 and 1 send three of every four requests to the first. */
    weight: z.number().positive().max(1_000_000).default(1),
    /** This endpoint's own budgets, judged on its requests alone (same syntax as the scenario's). */
    budgets: z.string().default(''),
  })
  .strict();

/**
 * A load scenario in the config: one request, or a weighted mix of requests (each with
 * its own budgets), `{id}` drawn from the seeded ids; an open model (`rate`) or a closed
 * one (`connections`), a duration and a warm-up left out of the figures, and budgets for
 * the whole scenario written as on the command line.
 */
export const scenarioSchema = z
  .object({
    request: requestString(requestRules).optional(),
    /** A weighted request mix instead of one `request`. */
    mix: z.array(mixEntrySchema).min(1).max(100).optional(),
    ids: z
      .object({
        from: z.number().int().min(1).default(1),
        to: z.number().int().min(1),
        skew: z.number().min(0).max(5).default(1.1),
      })
      .strict()
      .optional(),
    rate: z.number().positive().max(100_000).optional(),
    /** The closed model's clients; with `rate`, the open model's connections (default sized from the rate). */
    connections: z.number().int().min(1).max(10_000).optional(),
    durationMs: z.number().int().min(100).max(3_600_000).default(10_000),
    warmupMs: z.number().int().min(0).max(600_000).default(1000),
    timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
    /** dbproof's engines (the open model, or autocannon), or k6 (`k6 run` of the generated script; k6 must be on PATH). */
    engine: z.enum(['dbproof', 'k6']).default('dbproof'),
    /** e.g. 'p99=200ms,errors=0.1%,rps=50' (see `dbproof load --help`), over every request of the scenario. */
    budgets: z.string().default(''),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    if (scenario.rate && scenario.connections && scenario.engine === 'k6')
      ctx.addIssue({
        code: 'custom',
        path: ['rate'],
        message: "with engine 'k6', give rate (open model) or connections (closed model), not both",
      });
    if (scenario.ids && scenario.ids.from > scenario.ids.to)
      ctx.addIssue({
        code: 'custom',
        path: ['ids'],
        message: `ids.from (${scenario.ids.from}) must not be above ids.to (${scenario.ids.to})`,
      });
    if (scenario.rate && Math.floor((scenario.durationMs / 1000) * scenario.rate) < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['rate'],
        message: `rate ${scenario.rate}/s for ${scenario.durationMs} ms sends no request: raise rate or durationMs`,
      });
    if (Boolean(scenario.request) === Boolean(scenario.mix))
      ctx.addIssue({
        code: 'custom',
        path: ['request'],
        message: "give request: 'GET /path' or mix: [{ request, weight, budgets }], one of the two",
      });
    checkBudgets(scenario.budgets, ctx, ['budgets']);
    for (const [i, entry] of (scenario.mix ?? []).entries()) checkBudgets(entry.budgets, ctx, ['mix', i, 'budgets']);
    const requests = scenario.mix?.map((entry) => entry.request.replace(/\s+/, ' ')) ?? [];
    const repeated = requests.find((request, i) => requests.indexOf(request) !== i);
    if (repeated)
      ctx.addIssue({
        code: 'custom',
        path: ['mix'],
        message: `${repeated} is in the mix twice: give it once, with the sum of the weights`,
      });
  });

export type Scenario = z.output<typeof scenarioSchema>;

/** How results name what a scenario sends: its request, or its mix with the weights. */
export function describeRequests(scenario: Scenario): string {
  if (scenario.request) return scenario.request;
  const total = scenario.mix!.reduce((sum, entry) => sum + entry.weight, 0);
  return scenario.mix!.map((entry) => `${Math.round((entry.weight / total) * 100)} % ${entry.request}`).join(', ');
}

/** Runs the scenario against the app (in the engine's own process) and judges its budgets, per scenario and per endpoint. */
export async function runScenario(
  app: string | readonly string[],
  name: string,
  scenario: Scenario,
  onProgress?: (progress: EngineProgress) => void,
): Promise<LoadResult> {
  // Several instances (`app.instances`): the engine spreads its connections over them.
  const instances = typeof app === 'string' ? [app] : [...app];
  const appUrl = instances[0]!;
  if (instances.length > 1 && scenario.engine === 'k6')
    throw new UsageError(
      `scenario ${name}: engine k6 sends to one URL, and the app has ${instances.length} instances; leave engine out (dbproof's engines spread over every instance) or set app.instances: 1`,
    );
  // The open model's connections (sized from the rate when not given), or the closed model's clients.
  const connections = scenario.rate ? scenario.connections : (scenario.connections ?? 10);
  const mix: MixEntry[] | undefined = scenario.mix?.map((entry) => {
    const { method, path } = parseRequestLine(entry.request, requestRules);
    return { request: `${method} ${path}`, method, path, weight: entry.weight };
  });
  const { method, path } = scenario.request
    ? parseRequestLine(scenario.request, requestRules)
    : { method: 'GET', path: '/' };
  const request = {
    url: `${appUrl}${path}`,
    method,
    written: `${method} ${path}`,
    rate: scenario.rate,
    connections,
    durationMs: scenario.durationMs,
    warmupMs: scenario.warmupMs,
    timeoutMs: scenario.timeoutMs,
    ids: scenario.ids,
    mix,
    ...(instances.length > 1 ? { instances } : {}),
  };
  const report =
    scenario.engine === 'k6' ? await runK6({ ...request, budgets: [] }) : await runEngine(request, onProgress);
  // The answers it saw, for a headers suite that runs after the scenarios (k6 keeps none).
  seenAnswers.addAll(report.seen);
  const summary = summarise(report, { rate: scenario.rate, connections });
  // Budgets judged on nothing would pass: a scenario that measured no request could not check them.
  if (!Number.isFinite(summary.rps) || summary.requests === 0)
    throw new InfrastructureError(
      `scenario ${name} measured no request in ${scenario.durationMs} ms: check that the app answers ${describeRequests(scenario)} within timeoutMs (${scenario.timeoutMs} ms)`,
    );
  const verdicts = judgeLoad(
    scenario.budgets ? parseBudgets(scenario.budgets, scenario.request ?? `scenario ${name}`) : [],
    summary,
  );
  const endpoints = report.endpoints.map((endpoint, i) => {
    // Over the same span as the scenario's own rps: the load, or until its last answer if later.
    const figures = summariseEndpoint(endpoint, Math.max(report.durationMs, report.answeredMs ?? 0));
    const budgets = scenario.mix![i]!.budgets;
    if (budgets) verdicts.push(...judgeLoad(parseBudgets(budgets, endpoint.request), figures));
    return { request: endpoint.request, weight: mix![i]!.weight, ...figures, histogram: endpoint.histogram };
  });
  return {
    name,
    request: describeRequests(scenario),
    ...summary,
    verdicts,
    buckets: report.buckets,
    histogram: report.histogram,
    endpoints,
  };
}
