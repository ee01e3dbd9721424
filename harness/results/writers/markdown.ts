import { formatValue } from '../../budgets/index.ts';
import type { RunResult } from '../run-result.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** summary.md: for a pull-request comment or the CI step summary. */
export function summaryMarkdown(run: RunResult): string {
  const failed = run.verdicts.filter((v) => !v.pass);
  const head = run.incomplete
    ? `## dbproof: INCOMPLETE run ${run.runId}\n\nThe run was interrupted; the figures below are what finished.`
    : `## dbproof: ${run.pass ? 'PASS' : 'FAIL'} — ${run.verdicts.length - failed.length} of ${run.verdicts.length} budgets hold`;
  const rows = run.verdicts.map(
    (v) =>
      `| ${v.pass ? '✅' : '❌'} | ${cell(v.source)} | ${cell(v.claim)} | \`${v.budget.metric} ${v.budget.op} ${formatValue(v.budget.limit, v.budget.unit)}\`${v.budget.scope ? ` for \`${cell(v.budget.scope)}\`` : ''} | ${formatValue(v.measured, v.budget.unit)} | ${v.margin === null ? '—' : formatValue(v.margin, v.budget.unit)} |`,
  );
  const loads = run.loads.flatMap((l) => [
    `| ${cell(l.name)} | ${cell(l.endpoints.length ? 'the mix' : l.request)} | ${l.model}${l.rate ? ` ${l.rate}/s` : ` ${l.connections} conn.`} | ${l.requests} | ${(l.errorRate * 100).toFixed(2)} % | ${l.latencyMs.p50} | ${l.latencyMs.p95} | ${l.latencyMs.p99} | ${l.latencyMs.max} |`,
    // A mix's endpoints, each measured on its own, under the scenario's row.
    ...l.endpoints.map(
      (e) =>
        `| ↳ | ${cell(e.request)} | weight ${e.weight} | ${e.requests} | ${(e.errorRate * 100).toFixed(2)} % | ${e.latencyMs.p50} | ${e.latencyMs.p95} | ${e.latencyMs.p99} | ${e.latencyMs.max} |`,
    ),
  ]);
  return [
    head,
    '',
    '| | source | claim | budget | measured | margin |',
    '|---|---|---|---|---|---|',
    ...rows,
    ...(loads.length
      ? [
          '',
          '### Load',
          '',
          '| scenario | request | model | requests | errors | p50 ms | p95 ms | p99 ms | max ms |',
          '|---|---|---|---|---|---|---|---|---|',
          ...loads,
        ]
      : []),
    '',
    `${run.environment.app} on ${run.environment.provider}, Node ${run.environment.node}, ${run.environment.cpus} CPUs, dbproof ${run.environment.dbproof}. Run ${run.runId}.`,
    '',
  ].join('\n');
}
