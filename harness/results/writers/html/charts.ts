import * as hdr from 'hdr-histogram-js';
import { isSaturatedBucket, type NoiseRecord } from '../../../noise/record.ts';
import type { Bucket } from '../../schema.ts';
import { escapeMarkup as html } from '../escape.ts';

/**
 * Charts as inline SVG, drawn here rather than in the browser: the report is one file that
 * opens anywhere (a CI artifact, an e-mail attachment) with no script and no network.
 */
const W = 640;
const H = 220;
const PAD = { left: 56, right: 16, top: 14, bottom: 34 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

/** 1, 2, 5 × 10^k ticks covering [0, max]. */
function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(6)));
  return ticks;
}

const fmt = (v: number) => (v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3))));

function renderLegendItem([color, label]: [string, string], i: number): string {
  const swatch = `<rect width="10" height="10" fill="${color}"/>`;
  const text = `<text x="14" y="9" class="legend">${html(label)}</text>`;
  return `<g transform="translate(${PAD.left + 8 + i * 110},${PAD.top + 4})">${swatch}${text}</g>`;
}

function renderAxisLabels(xLabel: string, yLabel: string): string {
  const look = 'class="axis-label" text-anchor="middle"';
  const x = `<text x="${PAD.left + plotW / 2}" y="${H - 4}" ${look}>${html(xLabel)}</text>`;
  const y = `<text transform="translate(12,${PAD.top + plotH / 2}) rotate(-90)" ${look}>${html(yLabel)}</text>`;
  return `${x}${y}`;
}

function renderFrame(
  title: string,
  kind: string,
  body: string,
  xLabel: string,
  yLabel: string,
  legend: [string, string][] = [],
): string {
  const caption = `<figcaption>${html(title)}</figcaption>`;
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${html(title)}">`;
  const content = `${body}${legend.map(renderLegendItem).join('')}${renderAxisLabels(xLabel, yLabel)}`;
  return `<figure class="chart" data-chart="${html(kind)}">${caption}${svg}${content}</svg></figure>`;
}

function renderYTick(value: number, y: number): string {
  const grid = `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" class="grid"/>`;
  return `${grid}<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${fmt(value)}</text>`;
}

function renderYAxis(ticks: number[], y: (v: number) => number): string {
  return ticks.map((t) => renderYTick(t, y(t))).join('');
}

function renderXTick(x: number, label: string | number): string {
  return `<text x="${x}" y="${PAD.top + plotH + 14}" text-anchor="middle" class="tick">${label}</text>`;
}

function renderVerticalLine(x: number, className?: string): string {
  const attributes = className ? ` class="${className}"` : '';
  return `<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${PAD.top + plotH}"${attributes}/>`;
}

interface Box {
  x: number | string;
  y: number | string;
  width: number | string;
  height: number | string;
}

function renderBar(className: string, { x, y, width, height }: Box, tooltip: string): string {
  const title = `<title>${tooltip}</title>`;
  return `<rect class="${className}" x="${x}" y="${y}" width="${width}" height="${height}">${title}</rect>`;
}

function renderSeries(className: string, points: { x: number; y: number }[]): string {
  const coordinates = points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  return `<polyline class="series ${className}" fill="none" points="${coordinates}"/>`;
}

/**
 * The latency distribution, from the HDR histogram: each percentile step carries its share
 * of the requests (fine steps in the tail), binned on a logarithmic latency axis.
 */
export function latencyHistogram(title: string, base64: string): string {
  const histogram = hdr.decodeFromCompressedBase64(base64);
  const total = histogram.totalCount;
  const points: { value: number; share: number }[] = [];
  let previous = 0;
  const step = (p: number) => {
    points.push({ value: histogram.getValueAtPercentile(p) / 1000, share: (p - previous) / 100 });
    previous = p;
  };
  for (let p = 0.5; p <= 99; p += 0.5) step(p);
  for (let p = 99.05; p <= 99.9; p += 0.05) step(p);
  for (let p = 99.91; p <= 100.0001; p += 0.01) step(Math.min(p, 100));
  histogram.destroy();
  if (total === 0)
    return renderFrame(
      title,
      'histogram',
      `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no requests</text>`,
      'latency (ms, log scale)',
      'requests',
    );
  const lo = Math.max(0.001, Math.min(...points.map((p) => p.value)));
  const hi = Math.max(lo * 1.01, ...points.map((p) => p.value));
  const bins = 40;
  const logLo = Math.log10(lo);
  const width = (Math.log10(hi) - logLo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const point of points)
    counts[Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(Math.max(point.value, lo)) - logLo) / width)))]! +=
      point.share * total;
  const maxCount = Math.max(...counts);
  const ticks = niceTicks(maxCount);
  const y = (v: number) => PAD.top + plotH - (v / ticks[ticks.length - 1]!) * plotH;
  const barW = plotW / bins;
  const binStart = (i: number) => fmt(10 ** (logLo + i * width));
  const renderBin = (c: number, i: number) => {
    const box = { x: PAD.left + i * barW + 0.5, y: y(c), width: Math.max(1, barW - 1), height: PAD.top + plotH - y(c) };
    return renderBar('bar', box, `${binStart(i)}–${binStart(i + 1)} ms: ${Math.round(c)} requests`);
  };
  const bars = counts.map((c, i) => (c > 0 ? renderBin(c, i) : '')).join('');
  const xTicks = [0, 10, 20, 30, 40].map((i) => renderXTick(PAD.left + i * barW, binStart(i))).join('');
  return renderFrame(
    title,
    'histogram',
    `${renderYAxis(ticks, y)}${bars}${xTicks}`,
    'latency (ms, log scale)',
    'requests',
  );
}

/** Latency by percentile on a "nines" axis (50, 90, 99, 99.9, 99.99, 100): where the tail begins. */
export function percentileCurve(title: string, base64: string): string {
  const histogram = hdr.decodeFromCompressedBase64(base64);
  const nines = (p: number) => -Math.log10(1 - Math.min(p, 99.999) / 100);
  // Beyond 100 (1 − 1/n) % there is not one request left to tell anything: the curve stops there.
  const known = Math.min(99.999, 100 * (1 - 1 / Math.max(1, histogram.totalCount)));
  const ps: number[] = [];
  for (let p = 0; p < known; p = 100 - (100 - p) / 1.25) ps.push(p);
  ps.push(known);
  const points = ps.map((p) => ({ p, ms: histogram.getValueAtPercentile(p) / 1000 }));
  const total = histogram.totalCount;
  const max = histogram.maxValue / 1000;
  histogram.destroy();
  const maxX = nines(99.999);
  const ticks = niceTicks(Math.max(...points.map((p) => p.ms), 0.001));
  const x = (p: number) => PAD.left + (nines(p) / maxX) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / ticks[ticks.length - 1]!) * plotH;
  const curve = points.map((pt) => ({ x: x(pt.p), y: y(pt.ms) }));
  const line = renderSeries('p99', curve);
  const labels = [0, 50, 90, 99, 99.9, 99.99]
    .map((p) => renderVerticalLine(x(p), 'grid') + renderXTick(x(p), p))
    .join('');
  const end = points[points.length - 1]!;
  const limitNote =
    known < 99.999
      ? renderLimitNote(
          x(end.p),
          y(end.ms),
          `${total} requests: nothing beyond p${Number(known.toPrecision(4))} (max ${fmt(max)} ms)`,
        )
      : '';
  return renderFrame(
    title,
    'percentiles',
    `${renderYAxis(ticks, y)}${labels}${line}${limitNote}`,
    'percentile',
    'latency (ms)',
  );
}

/** Beside the curve's end, moved left when that end is too close to the plot's right edge for the text to fit. */
function renderLimitNote(endX: number, endY: number, text: string): string {
  return `<text x="${Math.min(endX + 4, PAD.left + plotW - 120)}" y="${endY - 6}" class="tick">${text}</text>`;
}

export interface EventMark {
  /** ms on the timeline's axis. */
  t: number;
  label: string;
}

function renderEventMark(e: EventMark, x: number): string {
  const label = `<text x="${x + 3}" y="${PAD.top + plotH - 4}" class="event-label">${html(e.label)}</text>`;
  return `<g class="event">${renderVerticalLine(x)}${label}</g>`;
}

/** Per-bucket p50 and p99 (lines) and errors (red bars), with fault events as dashed lines. */
export function timelineChart(title: string, buckets: Bucket[], bucketMs: number, events: EventMark[] = []): string {
  const end = Math.max(bucketMs, ...buckets.map((b) => b.t + bucketMs), ...events.map((e) => e.t + bucketMs));
  const ticks = niceTicks(Math.max(0.001, ...buckets.map((b) => b.p99Ms)));
  const maxErrors = Math.max(1, ...buckets.map((b) => b.requests));
  const x = (t: number) => PAD.left + (t / end) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, ticks[ticks.length - 1]!) / ticks[ticks.length - 1]!) * plotH;
  const series = (key: 'p50Ms' | 'p99Ms', cls: string) => {
    const middles = buckets.map((b) => ({ x: x(b.t + bucketMs / 2), y: y(b[key]) }));
    return renderSeries(cls, middles);
  };
  const renderErrorBar = (b: Bucket) => {
    const h = (b.errors / maxErrors) * plotH * 0.4;
    const box = {
      x: x(b.t).toFixed(1),
      y: (PAD.top + plotH - h).toFixed(1),
      width: Math.max(1, x(b.t + bucketMs) - x(b.t) - 0.5).toFixed(1),
      height: h.toFixed(1),
    };
    return renderBar('errors', box, `${b.t}–${b.t + bucketMs} ms: ${b.errors} of ${b.requests} failed`);
  };
  const errors = buckets
    .filter((b) => b.errors > 0)
    .map(renderErrorBar)
    .join('');
  const marks = events.map((e) => renderEventMark(e, x(e.t))).join('');
  const xTicks = niceTicks(end / 1000, 6)
    .filter((s) => s * 1000 <= end)
    .map((s) => renderXTick(x(s * 1000), fmt(s)))
    .join('');
  return renderFrame(
    title,
    'timeline',
    `${renderYAxis(ticks, y)}${errors}${series('p50Ms', 'p50')}${series('p99Ms', 'p99')}${marks}${xTicks}`,
    `time (s), ${bucketMs} ms buckets`,
    'latency (ms)',
    [
      ['#1f77b4', 'p50'],
      ['#d62728', 'p99'],
      ['#f4a3a3', 'errors'],
    ],
  );
}

/**
 * What the machine did while a suite or load ran (issue 13): the probe's wake-up lateness
 * per bucket (p99 and worst), the buckets the default thresholds call saturated shaded, and
 * the engine's own send lateness when the load had one. A tall line here beside a tall
 * latency line in the timeline is the machine, not the app.
 */
export function noiseChart(title: string, record: NoiseRecord, engineLate: Bucket[] = []): string {
  const { bucketMs, buckets } = record;
  const end = Math.max(bucketMs, ...buckets.map((b) => b.t + bucketMs));
  const lateness = [...buckets.map((b) => b.probeMaxMs ?? 0), ...engineLate.map((b) => b.sendLateMs ?? 0)];
  const ticks = niceTicks(Math.max(1, ...lateness));
  const top = ticks[ticks.length - 1]!;
  const x = (t: number) => PAD.left + (t / end) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, top) / top) * plotH;
  const point = (t: number, v: number) => ({ x: x(t + bucketMs / 2), y: y(v) });
  const saturated = buckets
    .filter((b) => isSaturatedBucket(b))
    .map((b) => {
      const box = {
        x: x(b.t).toFixed(1),
        y: PAD.top,
        width: Math.max(1, x(b.t + bucketMs) - x(b.t)).toFixed(1),
        height: plotH,
      };
      const pressure = b.cpuPressure === null ? '' : `, CPU pressure ${Math.round(b.cpuPressure * 100)} %`;
      return renderBar(
        'saturated',
        box,
        `${b.t}–${b.t + bucketMs} ms: probe up to ${b.probeMaxMs ?? '?'} ms late${pressure}`,
      );
    })
    .join('');
  const probeP99 = renderSeries(
    'probe-p99',
    buckets.filter((b) => b.probeP99Ms !== null).map((b) => point(b.t, b.probeP99Ms!)),
  );
  const probeMax = renderSeries(
    'probe-max',
    buckets.filter((b) => b.probeMaxMs !== null).map((b) => point(b.t, b.probeMaxMs!)),
  );
  const engine = engineLate.some((b) => b.sendLateMs !== undefined)
    ? renderSeries(
        'engine-late',
        engineLate.map((b) => point(b.t, b.sendLateMs ?? 0)),
      )
    : '';
  const xTicks = niceTicks(end / 1000, 6)
    .filter((s) => s * 1000 <= end)
    .map((s) => renderXTick(x(s * 1000), fmt(s)))
    .join('');
  const legend: [string, string][] = [
    ['#bf8700', 'probe p99'],
    ['#953800', 'probe worst'],
    ['#fff1c2', 'saturated'],
  ];
  if (engine) legend.push(['#8250df', 'engine send lateness']);
  return renderFrame(
    title,
    'noise',
    `${saturated}${renderYAxis(ticks, y)}${probeP99}${probeMax}${engine}${xTicks}`,
    `time (s), ${bucketMs} ms buckets`,
    'lateness (ms)',
    legend,
  );
}
