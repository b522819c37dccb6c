// Charts laid out as rectangles, lines and texts in SVG user units, so the template only draws.

import type { BackendRun, CaseResult, Counts, GoldenFile, RunSummary, Sample, Status, TokenStep, ToolCall, Verdict } from '../../core/types.ts';
import type { Chart, LegendItem, SvgLine, SvgPath, SvgRect, SvgText } from './report-model-types.ts';
import { maxOf, minOf } from '../../core/statistics.ts';
import { formatMs } from './report-text.ts';

const r1 = (n: number) => Math.round(n * 10) / 10;


function niceStep(max: number, targetTicks: number): number {
  const raw = max / Math.max(1, targetTicks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const m = raw / magnitude;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * magnitude;
}

/** Round tick values from 0 to at least max, about five of them. */
export function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const step = niceStep(max, 5);
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function emptyChart(id: string, title: string, description: string, width: number, height: number): Chart {
  return { id, title, description, width, height, rects: [], texts: [], lines: [], paths: [], legend: [], note: '' };
}

const LABEL_W = 250;
const CHART_W = 760;

function shorten(label: string, max = 36): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/** Axis labels: round numbers stay round ("50 ms", "1 s", "2.5 s"). */
function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(4))} s`;
  return `${Number(ms.toPrecision(4))} ms`;
}

function xAxis(chart: Chart, ticks: number[], x: (v: number) => number, top: number, bottom: number, label: (v: number) => string): void {
  for (const t of ticks) {
    const px = r1(x(t));
    chart.lines.push({ x1: px, y1: top, x2: px, y2: bottom, cls: 'grid' });
    chart.texts.push({ x: px, y: bottom + 14, text: label(t), anchor: 'middle', cls: 'tick' });
  }
  chart.lines.push({ x1: r1(x(ticks[0]!)), y1: bottom, x2: r1(x(ticks[ticks.length - 1]!)), y2: bottom, cls: 'axis' });
}

/**
 * An x scale for latencies between left and right: linear from 0, or logarithmic over whole decades when
 * the values span 20× or more, so a 3 ms TTFT and a 13 s one can both be read.
 */
function latencyScale(values: number[], left: number, right: number): { x: (v: number) => number; ticks: number[]; log: boolean } {
  const positive = values.filter((v) => v > 0);
  const min = positive.length ? minOf(positive) : 0;
  const max = Math.max(0, maxOf(values));
  if (min > 0 && max / min >= 20) {
    const lo = 10 ** Math.floor(Math.log10(min));
    const hi = 10 ** Math.ceil(Math.log10(max));
    const ticks: number[] = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(Number(t.toPrecision(6)));
    const span = Math.log10(hi) - Math.log10(lo);
    return { x: (v) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * (right - left), ticks, log: true };
  }
  const ticks = linearTicks(max);
  return { x: (v) => left + (v / ticks[ticks.length - 1]!) * (right - left), ticks, log: false };
}

/**
 * Past this many cases the TTFT chart shows the slowest of them: 10,000 streamed cases made a chart 220,000
 * px tall, and report.html took 3.1 s to open in Chromium instead of 0.9 s.
 */
export const MAX_TTFT_CASES = 200;

type TtftCase = { label: string; values: Map<string, number>; slowest: number; order: number };

/** The slowest `most` cases, in run order: the ones a reader looks for in a run too big to plot whole. */
function slowestCases(cases: TtftCase[], most: number): TtftCase[] {
  if (cases.length <= most) return cases;
  return [...cases]
    .sort((a, b) => b.slowest - a.slowest || a.order - b.order)
    .slice(0, most)
    .sort((a, b) => a.order - b.order);
}

/** Time to first token per case, one bar per backend: how TTFT grows with prompt length. */
export function ttftChart(results: CaseResult[], backends: string[], colors: Map<string, string>): Chart {
  const chart = emptyChart('chart-ttft', 'Time to first token per case', 'Horizontal bars: TTFT (sample.timings.firstTokenMs) of each case on each backend.', CHART_W, 0);
  const byKey = new Map<string, TtftCase>();
  let missing = 0;
  let samples = 0;
  for (const r of results) {
    if (!r.sample) continue;
    samples++;
    const ttft = r.sample.timings.firstTokenMs;
    if (ttft === undefined || !Number.isFinite(ttft)) {
      missing++;
      continue;
    }
    const key = `${r.suite}/${r.caseId}`;
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = { label: key, values: new Map(), slowest: ttft, order: byKey.size }));
    entry.values.set(r.backend, ttft);
    entry.slowest = Math.max(entry.slowest, ttft);
  }
  const all = [...byKey.values()];
  const cases = slowestCases(all, MAX_TTFT_CASES);
  const shown = backends.filter((b) => cases.some((c) => c.values.has(b)));
  chart.legend = shown.map((b) => ({ color: colors.get(b)!, label: b }));
  const notes: string[] = [];
  if (missing) notes.push(`${missing} of ${samples} samples carry no TTFT (not streamed, or no content arrived) and are not plotted.`);
  if (cases.length < all.length) notes.push(`The ${cases.length.toLocaleString('en-US')} of ${all.length.toLocaleString('en-US')} cases with the longest TTFT on any backend are shown, in run order; the case list below gives every case's TTFT.`);
  chart.note = notes.join(' ');
  const top = 10;
  const barH = 12;
  const rowH = Math.max(1, shown.length) * barH + 10;
  const plotBottom = top + Math.max(1, cases.length) * rowH;
  chart.height = plotBottom + 30;
  if (cases.length === 0) {
    chart.texts.push({ x: CHART_W / 2, y: top + 14, text: 'No sample has a TTFT: no case was streamed.', anchor: 'middle', cls: 'empty' });
    return chart;
  }
  const right = CHART_W - 70;
  const { x, ticks, log } = latencyScale(cases.flatMap((c) => [...c.values.values()]), LABEL_W, right);
  if (log) chart.note = [chart.note, 'The time axis is logarithmic: TTFTs span more than an order of magnitude.'].filter(Boolean).join(' ');
  xAxis(chart, ticks, x, top, plotBottom, tickLabel);
  cases.forEach((c, i) => {
    const y0 = top + i * rowH + 5;
    chart.texts.push({ x: LABEL_W - 8, y: r1(y0 + (shown.length * barH) / 2 + 4), text: shorten(c.label), anchor: 'end', cls: 'label' });
    shown.forEach((b, j) => {
      const v = c.values.get(b);
      if (v === undefined) return;
      const y = y0 + j * barH;
      chart.rects.push({ x: LABEL_W, y: r1(y), w: Math.max(1, r1(x(v) - LABEL_W)), h: barH - 2, fill: colors.get(b)!, title: `${b} ${c.label}: TTFT ${formatMs(v)}` });
      chart.texts.push({ x: r1(x(v) + 4), y: r1(y + barH - 3), text: formatMs(v), anchor: 'start', cls: 'value' });
    });
  });
  return chart;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The distribution of end-to-end latency per backend, as a cumulative curve. */
export function cdfChart(results: CaseResult[], backends: string[], colors: Map<string, string>): Chart {
  const chart = emptyChart('chart-cdf', 'End-to-end latency CDF per backend', 'Step lines: the share of successful samples (y) finished within a latency (x, sample.timings.endMs).', CHART_W, 280);
  const series = backends
    .map((b) => ({ backend: b, values: results.filter((r) => r.backend === b && r.sample?.kind === 'ok' && Number.isFinite(r.sample.timings.endMs)).map((r) => r.sample!.timings.endMs).sort((a, c) => a - c) }))
    .filter((s) => s.values.length > 0);
  const left = 60;
  const right = CHART_W - 20;
  const top = 10;
  const bottom = 240;
  if (series.length === 0) {
    chart.texts.push({ x: CHART_W / 2, y: 120, text: 'No successful samples to plot.', anchor: 'middle', cls: 'empty' });
    return chart;
  }
  const all = series.flatMap((s) => s.values);
  const { x, ticks, log } = latencyScale(all, left, right);
  if (log) chart.note = 'Latency axis is logarithmic: the latencies span more than an order of magnitude.';
  const y = (f: number) => bottom - f * (bottom - top);
  xAxis(chart, ticks, x, top, bottom, tickLabel);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    chart.lines.push({ x1: left, y1: r1(y(f)), x2: right, y2: r1(y(f)), cls: f === 0 ? 'axis' : 'grid' });
    chart.texts.push({ x: left - 6, y: r1(y(f) + 4), text: `${Math.round(f * 100)}%`, anchor: 'end', cls: 'tick' });
  }
  chart.texts.push({ x: (left + right) / 2, y: bottom + 32, text: 'end-to-end latency', anchor: 'middle', cls: 'axis-title' });
  for (const s of series) {
    const n = s.values.length;
    let d = `M${r1(x(s.values[0]!))},${r1(y(0))}`;
    s.values.forEach((v, i) => {
      d += ` H${r1(x(v))} V${r1(y((i + 1) / n))}`;
    });
    const stats = `n=${n}, p50 ${formatMs(percentile(s.values, 50))}, p90 ${formatMs(percentile(s.values, 90))}, max ${formatMs(s.values[n - 1])}`;
    chart.paths.push({ d, stroke: colors.get(s.backend)!, title: `${s.backend}: ${stats}` });
    chart.legend.push({ color: colors.get(s.backend)!, label: `${s.backend} (${stats})` });
  }
  return chart;
}

const SPAWN_COLOR = '#5b7db1';
const FIRST_ANSWER_COLOR = '#e39b3b';

/** Spawn → healthy and healthy → first answer per launched backend, stacked. */
export function coldStartChart(backends: BackendRun[]): Chart {
  const chart = emptyChart('chart-cold-start', 'Cold start per backend', 'Stacked bars: spawn to healthy, then healthy to the first real answer.', CHART_W, 0);
  chart.legend = [{ color: SPAWN_COLOR, label: 'spawn → healthy' }, { color: FIRST_ANSWER_COLOR, label: 'healthy → first answer' }];
  const top = 10;
  const rowH = 26;
  const bottom = top + Math.max(1, backends.length) * rowH;
  chart.height = bottom + 30;
  const totals = backends.map((b) => (b.coldStart?.spawnToHealthyMs ?? 0) + (b.coldStart?.healthyToFirstAnswerMs ?? 0));
  const max = Math.max(0, maxOf(totals));
  if (backends.length === 0 || max === 0) {
    chart.texts.push({ x: CHART_W / 2, y: top + 14, text: 'No backend was launched by conform, so there is no cold start to show.', anchor: 'middle', cls: 'empty' });
    if (backends.length === 0) return chart;
  }
  const ticks = linearTicks(max || 1);
  const right = CHART_W - 150;
  const x = (v: number) => LABEL_W + (v / ticks[ticks.length - 1]!) * (right - LABEL_W);
  if (max > 0) xAxis(chart, ticks, x, top, bottom, tickLabel);
  backends.forEach((b, i) => {
    const y = top + i * rowH + 5;
    chart.texts.push({ x: LABEL_W - 8, y: y + 12, text: shorten(b.name), anchor: 'end', cls: 'label' });
    const spawn = b.coldStart?.spawnToHealthyMs;
    const first = b.coldStart?.healthyToFirstAnswerMs;
    if (spawn === undefined && first === undefined) {
      chart.texts.push({ x: LABEL_W + 4, y: y + 12, text: b.state === 'ran' ? 'not launched by conform' : `${b.state}${b.reason ? `: ${shorten(b.reason, 60)}` : ''}`, anchor: 'start', cls: 'value' });
      return;
    }
    let at = LABEL_W;
    if (spawn !== undefined) {
      const w = Math.max(1, r1(x(spawn) - LABEL_W));
      chart.rects.push({ x: at, y, w, h: 16, fill: SPAWN_COLOR, title: `${b.name}: spawn → healthy ${formatMs(spawn)}` });
      at = r1(at + w);
    }
    if (first !== undefined) {
      const w = Math.max(1, r1(x(first) - LABEL_W));
      chart.rects.push({ x: at, y, w, h: 16, fill: FIRST_ANSWER_COLOR, title: `${b.name}: healthy → first answer ${formatMs(first)}` });
      at = r1(at + w);
    }
    chart.texts.push({ x: at + 6, y: y + 12, text: `${formatMs(spawn)} + ${formatMs(first)}`, anchor: 'start', cls: 'value' });
  });
  return chart;
}

// ---------------------------------------------------------------------------------------------------------
