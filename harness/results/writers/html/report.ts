import {
  type Budget,
  formatValue,
  formatVerdict,
  type Verdict,
  verdictsWord,
  verdictWord,
} from '../../../budgets/index.ts';
import { type EndpointResult, inconclusiveLine, type LoadResult, type RunResult, shareLine } from '../../run-result.ts';
import type { FindingRecord, PlanEvidenceRecord, PlanTreeRecord, SuiteResult } from '../../schema.ts';
import { latencyHistogram, noiseChart, percentileCurve, timelineChart } from './charts.ts';
import { escapeMarkup as html } from '../escape.ts';

/** The page's CSS, a line per group of related rules: arrays, so that no source line outgrows the formatter's width. */
const STYLE_LINES: string[][] = [
  [
    'body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; ' +
      'color: #1b1f24; }',
  ],
  [
    'h1 { font-size: 22px; }',
    'h2 { margin-top: 32px; border-bottom: 1px solid #d0d7de; }',
    'h3 { margin-bottom: 4px; }',
  ],
  ['.verdict-pass { color: #1a7f37; }', '.verdict-fail { color: #cf222e; }', '.incomplete { color: #9a6700; }'],
  ['.verdict-inconclusive { color: #9a6700; }'],
  ['table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; }'],
  ['th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }'],
  ['th { background: #f6f8fa; }', 'td.num { text-align: right; font-variant-numeric: tabular-nums; }'],
  [
    'tr.fail td { background: #ffebe9; }',
    'code, pre { font: 12px/1.4 ui-monospace, monospace; }',
    'pre { white-space: pre-wrap; margin: 0; }',
  ],
  [
    '.charts { display: flex; flex-wrap: wrap; gap: 8px; }',
    'figure.chart { margin: 0; }',
    'figcaption { font-weight: 600; font-size: 13px; }',
  ],
  [
    'svg .grid { stroke: #eaeef2; }',
    'svg .tick, svg .legend, svg .axis-label, svg .event-label { font-size: 10px; fill: #57606a; }',
  ],
  [
    'svg .bar { fill: #54aeff; }',
    'svg .series { stroke-width: 1.5; }',
    'svg .p50 { stroke: #1f77b4; }',
    'svg .p99 { stroke: #d62728; }',
  ],
  [
    'svg .errors { fill: #f4a3a3; }',
    'svg .saturated { fill: #fff1c2; }',
    'svg .probe-p99 { stroke: #bf8700; }',
    'svg .probe-max { stroke: #953800; stroke-dasharray: 2 2; }',
    'svg .engine-late { stroke: #8250df; }',
    'svg .event line { stroke: #8250df; stroke-dasharray: 4 3; }',
    'svg .event-label { fill: #8250df; }',
  ],
  ['.muted { color: #57606a; }'],
  [
    'ul.plan-tree, ul.plan-tree ul { list-style: none; margin: 0; padding-left: 18px; font: 12px/1.5 ui-monospace, monospace; }',
    'ul.plan-tree { padding-left: 0; }',
    'li.offending > span { background: #ffebe9; color: #cf222e; font-weight: 600; }',
  ],
];

const STYLE = `\n${STYLE_LINES.map((rules) => rules.join(' ')).join('\n')}\n`;

type Outcome = { pass: boolean; inconclusive?: boolean };
/** PASS, FAIL or INCONCLUSIVE (the machine was too busy to measure): never shown as a pass. */
const passWord = (o: Outcome) => verdictWord(o);
const passClass = (o: Outcome) => `verdict-${passWord(o).toLowerCase()}`;

function renderPassFail(o: Outcome): string {
  return `<span class="${passClass(o)}">${passWord(o)}</span>`;
}

function renderBudget(budget: Budget): string {
  return `${budget.metric} ${budget.op} ${formatValue(budget.limit, budget.unit)}`;
}

const renderNumCell = (value: string | number) => `<td class="num">${value}</td>`;

function renderRow(cells: string[], className?: string): string {
  return `<tr${className ? ` class="${className}"` : ''}>${cells.join('')}</tr>`;
}

/** `attributes` and `columns` are markup, written as they are: never pass them text from a run. */
function renderTable(attributes: string, columns: string[], rows: string[]): string {
  const head = columns.map((column) => `<th>${column}</th>`).join('');
  return `<table ${attributes}><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function renderVerdictRow(v: RunResult['verdicts'][number]): string {
  const evidence = v.evidence ? `<br><span class="muted">${html(v.evidence)}</span>` : '';
  const scope = v.budget.scope ? `<br><code class="muted">${html(v.budget.scope)}</code>` : '';
  const margin = v.margin === null ? '—' : html(formatValue(v.margin, v.budget.unit));
  const cells = [
    `<td class="${passClass(v)}">${passWord(v)}</td>`,
    `<td>${html(v.source)}</td>`,
    `<td>${html(v.claim)}${evidence}</td>`,
    `<td><code>${html(renderBudget(v.budget))}</code>${scope}</td>`,
    renderNumCell(html(formatValue(v.measured, v.budget.unit))),
    renderNumCell(margin),
  ];
  return renderRow(cells, v.pass ? 'pass' : v.inconclusive ? 'inconclusive' : 'fail');
}

function renderBudgetsTable(run: RunResult): string {
  const columns = ['', 'source', 'claim', 'budget', 'measured', 'margin'];
  return renderTable('id="budgets"', columns, run.verdicts.map(renderVerdictRow));
}

const LATENCY_KEYS = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean'] as const;

const latencyCells = (l: LoadResult['latencyMs']) =>
  LATENCY_KEYS.map((k) => renderNumCell(Math.round(l[k] * 100) / 100));

/** A row of load figures: the scenario's own, or one endpoint's of its mix; `label` is markup. */
function renderFiguresRow(label: string, figures: EndpointResult | LoadResult): string {
  return renderRow([
    `<td>${label}</td>`,
    renderNumCell(figures.requests),
    renderNumCell(`${(figures.errorRate * 100).toFixed(2)} %`),
    renderNumCell(figures.rps.toFixed(1)),
    ...latencyCells(figures.latencyMs),
  ]);
}

function renderEndpointRow(e: EndpointResult): string {
  return renderFiguresRow(`↳ ${html(e.request)} <span class="muted">(weight ${e.weight})</span>`, e);
}

function renderLoadFigures(load: LoadResult): string {
  const columns = ['request', 'requests', 'errors', 'req/s', ...LATENCY_KEYS.map((k) => `${k} ms`)];
  const rows = [
    renderFiguresRow(html(load.endpoints.length ? 'the whole mix' : load.request), load),
    ...load.endpoints.map(renderEndpointRow),
  ];
  return renderTable('class="load-figures"', columns, rows);
}

function renderLoadCharts(load: LoadResult): string {
  const endpointCharts = load.endpoints
    .map((e) => percentileCurve(`${e.request}: latency by percentile`, e.histogram))
    .join('');
  const charts = [
    latencyHistogram(`${load.name}: latency histogram`, load.histogram),
    percentileCurve(`${load.name}: latency by percentile`, load.histogram),
    timelineChart(`${load.name}: per 100 ms`, load.buckets, 100),
    endpointCharts,
    load.noise ? noiseChart(`${load.name}: the machine meanwhile`, load.noise, load.buckets) : '',
  ];
  return `<div class="charts">${charts.join('')}</div>`;
}

function renderLoadSection(load: LoadResult): string {
  const model = load.model === 'open' ? `open model, ${load.rate}/s` : `closed model, ${load.connections} connections`;
  const about = [
    html(load.request),
    html(model),
    `${load.durationMs / 1000} s measured`,
    `engine ${html(load.engine)}`,
  ].join(' · ');
  const heading = `<h3>load ${html(load.name)}</h3><p class="muted">${about}${renderMachine(load)}</p>`;
  return [
    `<section class="load" data-load="${html(load.name)}">${heading}`,
    renderLoadFigures(load),
    `${renderLoadCharts(load)}</section>`,
  ].join('\n');
}

function renderSuiteVerdict(v: Verdict): string {
  const measured = html(formatValue(v.measured, v.budget.unit));
  const text = `${passWord(v)} ${html(v.claim)}: ${measured} (${html(renderBudget(v.budget))})`;
  return `<li class="${passClass(v)}">${text}</li>`;
}

function renderEventRow(e: SuiteResult['events'][number]): string {
  const error = e.error ? ` <span class="verdict-fail">${html(e.error)}</span>` : '';
  return renderRow([
    renderNumCell(Math.round(e.t)),
    `<td>${html(e.kind)}</td>`,
    `<td>${html(e.target)}</td>`,
    renderNumCell(`${Math.round(e.durationMs)}${error}`),
  ]);
}

function renderEventsTable(events: SuiteResult['events']): string {
  if (!events.length) return '';
  return renderTable('class="events"', ['at (ms)', 'fault', 'target', 'took (ms)'], events.map(renderEventRow));
}

function renderNotes(notes: string[]): string {
  return notes.length ? `<ul class="muted">${notes.map((n) => `<li>${html(n)}</li>`).join('')}</ul>` : '';
}

/** The attempt and what the machine did meanwhile, after a section's other facts; nothing when it was not watched. */
function renderMachine(result: Pick<SuiteResult, 'attempt' | 'noise'>): string {
  const attempt = result.attempt && result.attempt > 1 ? ` · attempt ${result.attempt}` : '';
  return result.noise ? `${attempt} · machine: ${html(result.noise.summary.evidence)}` : attempt;
}

function renderPlanNode(node: PlanTreeRecord): string {
  const why = node.detail ? ` — ${html(node.detail)}` : '';
  const children = node.children.length ? `<ul>${node.children.map(renderPlanNode).join('')}</ul>` : '';
  const label = `<span>${html(node.node)}</span> <span class="muted">${node.rows} rows${why}</span>`;
  return `<li${node.offending ? ' class="offending"' : ''}>${label}${children}</li>`;
}

/** Each plan that broke a claim, as a tree with the offending nodes marked (the query-plans suite). */
function renderPlanEvidence(plans: PlanEvidenceRecord[] | undefined): string {
  return (plans ?? [])
    .map((p) => {
      const of = p.request ? ` of ${html(p.request)}` : '';
      const summary = `<summary>${html(p.claim)}: the plan${of}, the node that broke it marked</summary>`;
      const statement = `<pre>${html(p.statement)}</pre>`;
      return `<details class="plan" open>${summary}${statement}<ul class="plan-tree">${renderPlanNode(p.plan)}</ul></details>`;
    })
    .join('');
}

function renderSuiteSection(suite: SuiteResult): string {
  const events = suite.events.map((e) => ({ t: e.t, label: `${e.kind} ${e.target}` }));
  const charts = suite.timelines
    .map((t) => timelineChart(`${suite.suite}: ${t.name}`, t.buckets, t.bucketMs, events))
    .concat(suite.noise ? [noiseChart(`${suite.suite}: the machine meanwhile`, suite.noise)] : [])
    .join('');
  const heading = `<h3>suite ${html(suite.suite)} ${renderPassFail({ pass: suite.pass, inconclusive: verdictsWord(suite.verdicts) === 'INCONCLUSIVE' })}</h3>`;
  const about = `<p class="muted">${html(suite.target)} · ${(suite.durationMs / 1000).toFixed(1)} s${renderMachine(suite)}</p>`;
  return [
    `<section class="suite" data-suite="${html(suite.suite)}">${heading}${about}`,
    `<ul>${suite.verdicts.map(renderSuiteVerdict).join('')}</ul>`,
    renderPlanEvidence(suite.plans),
    renderEventsTable(suite.events),
    `<div class="charts">${charts}</div>`,
    renderNotes(suite.notes),
    '</section>',
  ].join('');
}

function renderFindingRow(f: FindingRecord): string {
  const sizes = Object.keys(f.countsBySize).sort((a, b) => Number(a) - Number(b));
  const site = f.site ? `<span class="muted">at ${html(f.site)}</span>` : '';
  const counts = sizes.map((s) => `${html(s)} → ${f.countsBySize[s]}`).join('<br>');
  return renderRow([
    `<td>${html(f.operation)}</td>`,
    `<td><pre>${html(f.exampleSql)}</pre>${site}</td>`,
    `<td>${counts}</td>`,
    renderNumCell(f.slope),
    `<td>${html(f.hint)}</td>`,
  ]);
}

/** Whether the run looked for N+1 at all: no finding means nothing only when it did. */
function renderNoFindings(checked: boolean): string {
  const text = checked
    ? 'No N+1: no statement ran once per item in the endpoints checked.'
    : 'No N+1 check in this run (add the n-plus-one suite to the config).';
  return `<p id="n1-none">${text}</p>`;
}

function renderFindingsSection(run: RunResult): string {
  if (run.findings.length === 0) return renderNoFindings(run.suites.some((s) => s.suite === 'n-plus-one'));
  const columns = ['endpoint', 'statement', 'runs per size', 'per item', 'fix'];
  return renderTable('id="n1-findings"', columns, run.findings.map(renderFindingRow));
}

/**
 * The attempts that were run again because the machine was saturated while a time-dependent
 * budget broke: shown, never hidden, so a reader sees what the retry replaced.
 */
function renderEarlierAttempts(run: RunResult): string {
  if (run.earlierAttempts.length === 0) return '';
  const rows = run.earlierAttempts.map((a) => {
    const broken = a.verdicts.filter((v) => !v.pass).map((v) => html(formatVerdict(v).split('\n')[0]!));
    const cells = [`<td>${html(a.source)}</td>`, renderNumCell(a.attempt), `<td>${html(a.noise.evidence)}</td>`];
    return renderRow([...cells, `<td>${broken.join('<br>')}</td>`]);
  });
  const table = renderTable('id="earlier-attempts"', ['source', 'attempt', 'the machine', 'broken then'], rows);
  return `<h2>Attempts run again (the machine was saturated)</h2>\n${table}`;
}

function renderStatus(run: RunResult): string {
  if (run.incomplete)
    return '<span class="incomplete">INCOMPLETE</span>: the run was interrupted; what finished is below';
  const failed = run.verdicts.filter((v) => !v.pass).length;
  const status = `${renderPassFail(run)}: ${run.verdicts.length - failed} of ${run.verdicts.length} budgets hold`;
  return run.inconclusive ? `${status}<br><span class="muted">${html(inconclusiveLine(run))}</span>` : status;
}

function renderRunInfo(run: RunResult): string {
  const env = run.environment;
  const finished = run.finishedAt ? ` · finished ${html(run.finishedAt)}` : '';
  const parts = [
    `Run ${html(run.runId)}`,
    `started ${html(run.startedAt)}${finished}`,
    `${html(env.app)} on ${html(env.provider)}`,
    `Node ${html(env.node)}`,
    `${env.cpus} CPUs`,
    html(env.platform),
    `dbproof ${html(env.dbproof)}`,
  ];
  const share = shareLine(run);
  return `<p class="muted">${parts.join(' · ')}</p>${share ? `\n<p class="muted" id="share">${html(share)}</p>` : ''}`;
}

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched)
 * with the budgets table, each load's latency histogram, percentile curve and per-100 ms
 * timeline, each suite's timeline with its faults marked, and the N+1 findings.
 */
export function reportHtml(run: RunResult): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dbproof ${html(run.runId)}: ${run.incomplete ? 'INCOMPLETE' : passWord(run)}</title>
<style>${STYLE}</style></head>
<body>
<h1 id="status">dbproof ${renderStatus(run)}</h1>
${renderRunInfo(run)}
<h2>Budgets</h2>
${renderBudgetsTable(run)}
<h2>N+1 findings</h2>
${renderFindingsSection(run)}
<h2>Load</h2>
${run.loads.length ? run.loads.map(renderLoadSection).join('\n') : '<p>No load scenario in this run.</p>'}
<h2>Suites</h2>
${run.suites.length ? run.suites.map(renderSuiteSection).join('\n') : '<p>No suite in this run.</p>'}
${renderEarlierAttempts(run)}
</body></html>
`;
}
