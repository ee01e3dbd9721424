import { formatValue } from '../../../budgets/index.ts';
import type { LoadResult, RunResult } from '../../run-result.ts';
import type { SuiteResult } from '../../schema.ts';
import { latencyHistogram, percentileCurve, timelineChart } from './charts.ts';
import { escapeMarkup as html } from '../escape.ts';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #1b1f24; }
h1 { font-size: 22px; } h2 { margin-top: 32px; border-bottom: 1px solid #d0d7de; } h3 { margin-bottom: 4px; }
.verdict-pass { color: #1a7f37; } .verdict-fail { color: #cf222e; } .incomplete { color: #9a6700; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #ffebe9; } code, pre { font: 12px/1.4 ui-monospace, monospace; } pre { white-space: pre-wrap; margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; } figure.chart { margin: 0; } figcaption { font-weight: 600; font-size: 13px; }
svg .grid { stroke: #eaeef2; } svg .tick, svg .legend, svg .axis-label, svg .event-label { font-size: 10px; fill: #57606a; }
svg .bar { fill: #54aeff; } svg .series { stroke-width: 1.5; } svg .p50 { stroke: #1f77b4; } svg .p99 { stroke: #d62728; }
svg .errors { fill: #f4a3a3; } svg .event line { stroke: #8250df; stroke-dasharray: 4 3; } svg .event-label { fill: #8250df; }
.muted { color: #57606a; }
`;

function budgetsTable(run: RunResult): string {
  const rows = run.verdicts.map((v) => {
    const budget = `${v.budget.metric} ${v.budget.op} ${formatValue(v.budget.limit, v.budget.unit)}`;
    return `<tr class="${v.pass ? 'pass' : 'fail'}"><td class="${v.pass ? 'verdict-pass' : 'verdict-fail'}">${v.pass ? 'PASS' : 'FAIL'}</td><td>${html(v.source)}</td><td>${html(v.claim)}${v.evidence ? `<br><span class="muted">${html(v.evidence)}</span>` : ''}</td><td><code>${html(budget)}</code>${v.budget.scope ? `<br><code class="muted">${html(v.budget.scope)}</code>` : ''}</td><td class="num">${html(formatValue(v.measured, v.budget.unit))}</td><td class="num">${v.margin === null ? '—' : html(formatValue(v.margin, v.budget.unit))}</td></tr>`;
  });
  return `<table id="budgets"><thead><tr><th></th><th>source</th><th>claim</th><th>budget</th><th>measured</th><th>margin</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const latencyCells = (l: LoadResult['latencyMs']) =>
  (['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean'] as const)
    .map((k) => `<td class="num">${Math.round(l[k] * 100) / 100}</td>`)
    .join('');

function loadSection(load: LoadResult): string {
  const model = load.model === 'open' ? `open model, ${load.rate}/s` : `closed model, ${load.connections} connections`;
  const rows = [
    `<tr><td>${html(load.endpoints.length ? 'the whole mix' : load.request)}</td><td class="num">${load.requests}</td><td class="num">${(load.errorRate * 100).toFixed(2)} %</td><td class="num">${load.rps.toFixed(1)}</td>${latencyCells(load.latencyMs)}</tr>`,
    ...load.endpoints.map(
      (e) =>
        `<tr><td>↳ ${html(e.request)} <span class="muted">(weight ${e.weight})</span></td><td class="num">${e.requests}</td><td class="num">${(e.errorRate * 100).toFixed(2)} %</td><td class="num">${e.rps.toFixed(1)}</td>${latencyCells(e.latencyMs)}</tr>`,
    ),
  ];
  const endpointCharts = load.endpoints
    .map((e) => percentileCurve(`${e.request}: latency by percentile`, e.histogram))
    .join('');
  return `<section class="load" data-load="${html(load.name)}"><h3>load ${html(load.name)}</h3><p class="muted">${html(load.request)} · ${html(model)} · ${load.durationMs / 1000} s measured · engine ${html(load.engine)}</p>
<table class="load-figures"><thead><tr><th>request</th><th>requests</th><th>errors</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>mean ms</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<div class="charts">${latencyHistogram(`${load.name}: latency histogram`, load.histogram)}${percentileCurve(`${load.name}: latency by percentile`, load.histogram)}${timelineChart(`${load.name}: per 100 ms`, load.buckets, 100)}${endpointCharts}</div></section>`;
}

function suiteSection(suite: SuiteResult): string {
  const verdicts = suite.verdicts
    .map(
      (v) =>
        `<li class="${v.pass ? 'verdict-pass' : 'verdict-fail'}">${v.pass ? 'PASS' : 'FAIL'} ${html(v.claim)}: ${html(formatValue(v.measured, v.budget.unit))} (${html(`${v.budget.metric} ${v.budget.op} ${formatValue(v.budget.limit, v.budget.unit)}`)})</li>`,
    )
    .join('');
  const events = suite.events.map((e) => ({ t: e.t, label: `${e.kind} ${e.target}` }));
  const charts = suite.timelines
    .map((t) => timelineChart(`${suite.suite}: ${t.name}`, t.buckets, t.bucketMs, events))
    .join('');
  const eventRows = suite.events.length
    ? `<table class="events"><thead><tr><th>at (ms)</th><th>fault</th><th>target</th><th>took (ms)</th></tr></thead><tbody>${suite.events.map((e) => `<tr><td class="num">${Math.round(e.t)}</td><td>${html(e.kind)}</td><td>${html(e.target)}</td><td class="num">${Math.round(e.durationMs)}${e.error ? ` <span class="verdict-fail">${html(e.error)}</span>` : ''}</td></tr>`).join('')}</tbody></table>`
    : '';
  const notes = suite.notes.length
    ? `<ul class="muted">${suite.notes.map((n) => `<li>${html(n)}</li>`).join('')}</ul>`
    : '';
  return `<section class="suite" data-suite="${html(suite.suite)}"><h3>suite ${html(suite.suite)} <span class="${suite.pass ? 'verdict-pass' : 'verdict-fail'}">${suite.pass ? 'PASS' : 'FAIL'}</span></h3><p class="muted">${html(suite.target)} · ${(suite.durationMs / 1000).toFixed(1)} s</p><ul>${verdicts}</ul>${eventRows}<div class="charts">${charts}</div>${notes}</section>`;
}

function findingsSection(run: RunResult): string {
  const findings = run.findings;
  const checked = run.suites.some((s) => s.suite === 'n-plus-one');
  if (findings.length === 0)
    return `<p id="n1-none">${checked ? 'No N+1: no statement ran once per item in the endpoints checked.' : 'No N+1 check in this run (add the n-plus-one suite to the config).'}</p>`;
  const rows = findings.map((f) => {
    const sizes = Object.keys(f.countsBySize).sort((a, b) => Number(a) - Number(b));
    return `<tr><td>${html(f.operation)}</td><td><pre>${html(f.exampleSql)}</pre>${f.site ? `<span class="muted">at ${html(f.site)}</span>` : ''}</td><td>${sizes.map((s) => `${html(s)} → ${f.countsBySize[s]}`).join('<br>')}</td><td class="num">${f.slope}</td><td>${html(f.hint)}</td></tr>`;
  });
  return `<table id="n1-findings"><thead><tr><th>endpoint</th><th>statement</th><th>runs per size</th><th>per item</th><th>fix</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched)
 * with the budgets table, each load's latency histogram, percentile curve and per-100 ms
 * timeline, each suite's timeline with its faults marked, and the N+1 findings.
 */
export function reportHtml(run: RunResult): string {
  const failed = run.verdicts.filter((v) => !v.pass).length;
  const status = run.incomplete
    ? `<span class="incomplete">INCOMPLETE</span>: the run was interrupted; what finished is below`
    : `<span class="${run.pass ? 'verdict-pass' : 'verdict-fail'}">${run.pass ? 'PASS' : 'FAIL'}</span>: ${run.verdicts.length - failed} of ${run.verdicts.length} budgets hold`;
  const env = run.environment;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dbproof ${html(run.runId)}: ${run.incomplete ? 'INCOMPLETE' : run.pass ? 'PASS' : 'FAIL'}</title>
<style>${STYLE}</style></head>
<body>
<h1 id="status">dbproof ${status}</h1>
<p class="muted">Run ${html(run.runId)} · started ${html(run.startedAt)}${run.finishedAt ? ` · finished ${html(run.finishedAt)}` : ''} · ${html(env.app)} on ${html(env.provider)} · Node ${html(env.node)} · ${env.cpus} CPUs · ${html(env.platform)} · dbproof ${html(env.dbproof)}</p>
<h2>Budgets</h2>
${budgetsTable(run)}
<h2>N+1 findings</h2>
${findingsSection(run)}
<h2>Load</h2>
${run.loads.length ? run.loads.map(loadSection).join('\n') : '<p>No load scenario in this run.</p>'}
<h2>Suites</h2>
${run.suites.length ? run.suites.map(suiteSection).join('\n') : '<p>No suite in this run.</p>'}
</body></html>
`;
}
