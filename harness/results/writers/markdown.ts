import { type Budget, formatValue, type Verdict } from '../../budgets/index.ts';
import {
  type EndpointResult,
  inconclusiveLine,
  type LoadResult,
  type RunResult,
  runWord,
  shareLine,
} from '../run-result.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const renderRow = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

const percent = (rate: number) => `${(rate * 100).toFixed(2)} %`;

function renderHead(run: RunResult): string {
  if (run.incomplete)
    return `## dbproof: INCOMPLETE run ${run.runId}\n\nThe run was interrupted; the figures below are what finished.`;
  const held = run.verdicts.length - run.verdicts.filter((v) => !v.pass).length;
  const head = `## dbproof: ${runWord(run)} — ${held} of ${run.verdicts.length} budgets hold`;
  return run.inconclusive ? `${head}\n\n${cell(inconclusiveLine(run))}` : head;
}

function renderBudget(budget: Budget): string {
  const scope = budget.scope ? ` for \`${cell(budget.scope)}\`` : '';
  return `\`${budget.metric} ${budget.op} ${formatValue(budget.limit, budget.unit)}\`${scope}`;
}

/** ✅ held, ❌ broke, ⚠️ the machine was too busy to tell. */
const verdictMark = (v: Pick<Verdict, 'pass' | 'inconclusive'>) => (v.pass ? '✅' : v.inconclusive ? '⚠️' : '❌');

function renderVerdictRow(v: RunResult['verdicts'][number]): string {
  return renderRow([
    verdictMark(v),
    cell(v.source),
    cell(v.claim),
    renderBudget(v.budget),
    formatValue(v.measured, v.budget.unit),
    v.margin === null ? '—' : formatValue(v.margin, v.budget.unit),
  ]);
}

/** The columns after the model's: what a scenario and each endpoint of its mix share. */
function renderFigures(figures: LoadResult | EndpointResult): (string | number)[] {
  const { latencyMs } = figures;
  return [figures.requests, percent(figures.errorRate), latencyMs.p50, latencyMs.p95, latencyMs.p99, latencyMs.max];
}

function renderLoadRow(l: LoadResult): string {
  const model = `${l.model}${l.rate ? ` ${l.rate}/s` : ` ${l.connections} conn.`}`;
  return renderRow([cell(l.name), cell(l.endpoints.length ? 'the mix' : l.request), model, ...renderFigures(l)]);
}

function renderEndpointRow(e: EndpointResult): string {
  return renderRow(['↳', cell(e.request), `weight ${e.weight}`, ...renderFigures(e)]);
}

function renderLoadTable(loads: LoadResult[]): string[] {
  const rows = loads.flatMap((l) => [
    renderLoadRow(l),
    // A mix's endpoints, each measured on its own, under the scenario's row.
    ...l.endpoints.map(renderEndpointRow),
  ]);
  if (!rows.length) return [];
  return [
    '',
    '### Load',
    '',
    '| scenario | request | model | requests | errors | p50 ms | p95 ms | p99 ms | max ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ];
}

/** A statement in a table cell: on one line, at most 200 characters, as code. */
function renderStatement(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return `\`${cell(line.length > 200 ? `${line.slice(0, 200)}…` : line).replace(/`/g, "'")}\``;
}

/**
 * Each load's top statements (by total time, results.topStatements): the five that cost the
 * most, with their work per call and plan, and what changed since the baseline.
 */
function renderTopStatements(loads: LoadResult[]): string[] {
  const kept = loads.filter((l) => l.statements?.length);
  if (!kept.length) return [];
  const lines = ['', '### Top statements', ''];
  for (const load of kept) {
    lines.push(
      `${cell(load.name)}:`,
      '',
      '| # | statement | calls | mean ms | buffers/call | plan |',
      '|---|---|---|---|---|---|',
    );
    lines.push(
      ...load
        .statements!.slice(0, 5)
        .map((s, i) =>
          renderRow([
            i + 1,
            renderStatement(s.query),
            s.calls,
            s.meanMs,
            s.buffersPerCall,
            cell(s.plan?.join(' > ') ?? '—'),
          ]),
        ),
    );
    const changes = load.statementChanges ?? [];
    lines.push(
      '',
      ...(load.statementChanges === undefined
        ? []
        : changes.length === 0
          ? ['Unchanged since the baseline.']
          : [
              `Changed since the baseline (${changes.length}):`,
              '',
              ...changes.map((c) => `- ${renderStatement(c.query)}: ${cell(c.evidence)}`),
            ]),
      '',
    );
  }
  return lines;
}

/**
 * The N+1 findings, under the budgets: the endpoint, the statement it runs once per item and
 * how often it ran at each size, which is what a reviewer acts on (issue 15).
 */
function renderFindings(run: RunResult): string[] {
  if (run.findings.length === 0) return [];
  const rows = run.findings.map((f) => {
    const sizes = Object.keys(f.countsBySize).sort((a, b) => Number(a) - Number(b));
    const counts = sizes.map((s) => `${s} → ${f.countsBySize[s]}`).join(', ');
    return renderRow([cell(f.operation), renderStatement(f.exampleSql), cell(counts), f.slope, cell(f.hint)]);
  });
  return [
    '',
    `### N+1 findings (${run.findings.length})`,
    '',
    '| endpoint | statement run once per item | runs per size | per item | fix |',
    '|---|---|---|---|---|',
    ...rows,
  ];
}

function renderEnvironment(run: RunResult): string {
  const env = run.environment;
  const share = shareLine(run);
  return `${env.app} on ${env.provider}, Node ${env.node}, ${env.cpus} CPUs, dbproof ${env.dbproof}. Run ${run.runId}.${share ? ` ${share}` : ''}`;
}

/** summary.md: for a pull-request comment or the CI step summary. */
/** The attempts run again because the machine was saturated: listed, so nothing a retry replaced is hidden. */
function renderEarlierAttempts(run: RunResult): string[] {
  if (run.earlierAttempts.length === 0) return [];
  const lines = run.earlierAttempts.map((a) => `- ${cell(a.source)}, attempt ${a.attempt}: ${cell(a.noise.evidence)}`);
  return ['', `Run again because the machine was saturated (${run.earlierAttempts.length}):`, '', ...lines];
}

export function summaryMarkdown(run: RunResult): string {
  return [
    renderHead(run),
    '',
    '| | source | claim | budget | measured | margin |',
    '|---|---|---|---|---|---|',
    ...run.verdicts.map(renderVerdictRow),
    ...renderFindings(run),
    ...renderLoadTable(run.loads),
    ...renderTopStatements(run.loads),
    ...renderEarlierAttempts(run),
    '',
    renderEnvironment(run),
    '',
  ].join('\n');
}
