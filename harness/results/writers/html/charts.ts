import * as hdr from 'hdr-histogram-js';
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

function frame(
  title: string,
  kind: string,
  body: string,
  xLabel: string,
  yLabel: string,
  legend: [string, string][] = [],
): string {
  const legendSvg = legend
    .map(
      ([color, label], i) =>
        `<g transform="translate(${PAD.left + 8 + i * 110},${PAD.top + 4})"><rect width="10" height="10" fill="${color}"/><text x="14" y="9" class="legend">${html(label)}</text></g>`,
    )
    .join('');
  return `<figure class="chart" data-chart="${html(kind)}"><figcaption>${html(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${html(title)}">${body}${legendSvg}<text x="${PAD.left + plotW / 2}" y="${H - 4}" class="axis-label" text-anchor="middle">${html(xLabel)}</text><text transform="translate(12,${PAD.top + plotH / 2}) rotate(-90)" class="axis-label" text-anchor="middle">${html(yLabel)}</text></svg></figure>`;
}

function yAxis(ticks: number[], y: (v: number) => number): string {
  return ticks
    .map(
      (t) =>
        `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end" class="tick">${fmt(t)}</text>`,
    )
    .join('');
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
    return frame(
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
  const bars = counts
    .map((c, i) =>
      c > 0
        ? `<rect class="bar" x="${PAD.left + i * barW + 0.5}" y="${y(c)}" width="${Math.max(1, barW - 1)}" height="${PAD.top + plotH - y(c)}"><title>${fmt(10 ** (logLo + i * width))}–${fmt(10 ** (logLo + (i + 1) * width))} ms: ${Math.round(c)} requests</title></rect>`
        : '',
    )
    .join('');
  const xTicks = [0, 10, 20, 30, 40]
    .map(
      (i) =>
        `<text x="${PAD.left + i * barW}" y="${PAD.top + plotH + 14}" text-anchor="middle" class="tick">${fmt(10 ** (logLo + i * width))}</text>`,
    )
    .join('');
  return frame(title, 'histogram', `${yAxis(ticks, y)}${bars}${xTicks}`, 'latency (ms, log scale)', 'requests');
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
  const line = `<polyline class="series p99" fill="none" points="${points.map((pt) => `${x(pt.p).toFixed(1)},${y(pt.ms).toFixed(1)}`).join(' ')}"/>`;
  const labels = [0, 50, 90, 99, 99.9, 99.99]
    .map(
      (p) =>
        `<line x1="${x(p)}" x2="${x(p)}" y1="${PAD.top}" y2="${PAD.top + plotH}" class="grid"/><text x="${x(p)}" y="${PAD.top + plotH + 14}" text-anchor="middle" class="tick">${p}</text>`,
    )
    .join('');
  const end = points[points.length - 1]!;
  const limitNote =
    known < 99.999
      ? `<text x="${Math.min(x(end.p) + 4, PAD.left + plotW - 120)}" y="${y(end.ms) - 6}" class="tick">${total} requests: nothing beyond p${Number(known.toPrecision(4))} (max ${fmt(max)} ms)</text>`
      : '';
  return frame(title, 'percentiles', `${yAxis(ticks, y)}${labels}${line}${limitNote}`, 'percentile', 'latency (ms)');
}

export interface EventMark {
  /** ms on the timeline's axis. */
  t: number;
  label: string;
}

/** Per-bucket p50 and p99 (lines) and errors (red bars), with fault events as dashed lines. */
export function timelineChart(title: string, buckets: Bucket[], bucketMs: number, events: EventMark[] = []): string {
  const end = Math.max(bucketMs, ...buckets.map((b) => b.t + bucketMs), ...events.map((e) => e.t + bucketMs));
  const ticks = niceTicks(Math.max(0.001, ...buckets.map((b) => b.p99Ms)));
  const maxErrors = Math.max(1, ...buckets.map((b) => b.requests));
  const x = (t: number) => PAD.left + (t / end) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, ticks[ticks.length - 1]!) / ticks[ticks.length - 1]!) * plotH;
  const series = (key: 'p50Ms' | 'p99Ms', cls: string) =>
    `<polyline class="series ${cls}" fill="none" points="${buckets.map((b) => `${x(b.t + bucketMs / 2).toFixed(1)},${y(b[key]).toFixed(1)}`).join(' ')}"/>`;
  const errors = buckets
    .filter((b) => b.errors > 0)
    .map((b) => {
      const h = (b.errors / maxErrors) * plotH * 0.4;
      return `<rect class="errors" x="${x(b.t).toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${Math.max(1, x(b.t + bucketMs) - x(b.t) - 0.5).toFixed(1)}" height="${h.toFixed(1)}"><title>${b.t}–${b.t + bucketMs} ms: ${b.errors} of ${b.requests} failed</title></rect>`;
    })
    .join('');
  const marks = events
    .map(
      (e) =>
        `<g class="event"><line x1="${x(e.t)}" x2="${x(e.t)}" y1="${PAD.top}" y2="${PAD.top + plotH}"/><text x="${x(e.t) + 3}" y="${PAD.top + plotH - 4}" class="event-label">${html(e.label)}</text></g>`,
    )
    .join('');
  const xTicks = niceTicks(end / 1000, 6)
    .filter((s) => s * 1000 <= end)
    .map(
      (s) => `<text x="${x(s * 1000)}" y="${PAD.top + plotH + 14}" text-anchor="middle" class="tick">${fmt(s)}</text>`,
    )
    .join('');
  return frame(
    title,
    'timeline',
    `${yAxis(ticks, y)}${errors}${series('p50Ms', 'p50')}${series('p99Ms', 'p99')}${marks}${xTicks}`,
    `time (s), ${bucketMs} ms buckets`,
    'latency (ms)',
    [
      ['#1f77b4', 'p50'],
      ['#d62728', 'p99'],
      ['#f4a3a3', 'errors'],
    ],
  );
}
