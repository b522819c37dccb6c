// Queue depth and KV-cache use over each backend's telemetry window, laid out for the HTML report's SVG
// (the same Chart model as its latency plots: the template only draws). Pure.

import type { EngineGauge } from '../../core/telemetry-types.ts';
import { maxOf } from '../../core/statistics.ts';
import type { RunSummary } from '../../core/types.ts';
import { linearTicks } from '../../reporters/html/report-charts.ts';
import type { Chart } from '../../reporters/html/report-model-types.ts';

const WIDTH = 760;
const HEIGHT = 250;
const LEFT = 60;
const RIGHT = WIDTH - 20;
const TOP = 10;
const BOTTOM = 200;

const r1 = (n: number) => Math.round(n * 10) / 10;

interface GaugeChart {
  id: string;
  title: string;
  description: string;
  gauge: EngineGauge;
  /** How a value reads on the axis and in a tooltip. */
  label(value: number): string;
  /** Why the chart is empty when no backend reported the gauge. */
  none: string;
}

const CHARTS: GaugeChart[] = [
  {
    id: 'chart-queue',
    title: 'Queue depth over time',
    description: "Lines: requests waiting in each engine's queue, from its /metrics, against seconds since the backend's first request.",
    gauge: 'queueWaiting',
    label: (v) => String(Number(v.toPrecision(3))),
    none: 'No backend reported a queue depth (its /metrics were not scraped or have no queue gauge).',
  },
  {
    id: 'chart-kv',
    title: 'KV-cache use over time',
    description: "Lines: each engine's KV-cache use (share of its capacity), from its /metrics, against seconds since the backend's first request.",
    gauge: 'kvCacheUsage',
    label: (v) => `${Number((v * 100).toPrecision(3))} %`,
    none: 'No backend reported its KV-cache use (llama-server since mid-2025 and TGI do not export it).',
  },
];

/** A path through the points, broken where a scrape lacked the gauge. */
function pathOf(t: number[], values: Array<number | null>, x: (v: number) => number, y: (v: number) => number): string {
  let d = '';
  let open = false;
  values.forEach((v, i) => {
    if (v === null) return void (open = false);
    d += `${open ? ' L' : `${d ? ' ' : ''}M`}${r1(x(t[i]! / 1000))},${r1(y(v))}`;
    open = true;
  });
  return d;
}

function gaugeChart(spec: GaugeChart, summary: RunSummary, colors: ReadonlyMap<string, string>): Chart {
  const chart: Chart = { id: spec.id, title: spec.title, description: spec.description, width: WIDTH, height: HEIGHT, rects: [], texts: [], lines: [], paths: [], legend: [], note: '' };
  const series = summary.backends.flatMap((run) => {
    const m = run.telemetry?.metrics;
    const values = m?.series[spec.gauge];
    return m && values && values.some((v) => v !== null) ? [{ backend: run.name, t: m.series.t, values, source: m.sources[spec.gauge] ?? spec.gauge }] : [];
  });
  if (series.length === 0) {
    chart.texts.push({ x: WIDTH / 2, y: HEIGHT / 2, text: spec.none, anchor: 'middle', cls: 'empty' });
    return chart;
  }
  const maxT = Math.max(1, ...series.flatMap((s) => s.t)) / 1000;
  const maxV = Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const xTicks = linearTicks(maxT);
  const yTicks = linearTicks(maxV > 0 ? maxV : 1);
  const x = (s: number) => LEFT + (s / xTicks[xTicks.length - 1]!) * (RIGHT - LEFT);
  const y = (v: number) => BOTTOM - (v / yTicks[yTicks.length - 1]!) * (BOTTOM - TOP);
  for (const t of xTicks) {
    chart.lines.push({ x1: r1(x(t)), y1: TOP, x2: r1(x(t)), y2: BOTTOM, cls: 'grid' });
    chart.texts.push({ x: r1(x(t)), y: BOTTOM + 14, text: `${t} s`, anchor: 'middle', cls: 'tick' });
  }
  for (const v of yTicks) {
    chart.lines.push({ x1: LEFT, y1: r1(y(v)), x2: RIGHT, y2: r1(y(v)), cls: v === 0 ? 'axis' : 'grid' });
    chart.texts.push({ x: LEFT - 6, y: r1(y(v) + 4), text: spec.label(v), anchor: 'end', cls: 'tick' });
  }
  chart.texts.push({ x: (LEFT + RIGHT) / 2, y: BOTTOM + 34, text: "seconds since the backend's first request", anchor: 'middle', cls: 'axis-title' });
  for (const s of series) {
    const known = s.values.filter((v): v is number => v !== null);
    const color = colors.get(s.backend) ?? '#2f6fb3';
    const stats = `max ${spec.label(maxOf(known))} over ${known.length} scrapes (${s.source})`;
    chart.paths.push({ d: pathOf(s.t, s.values, x, y), stroke: color, title: `${s.backend}: ${stats}` });
    chart.legend.push({ color, label: `${s.backend}: ${stats}` });
  }
  return chart;
}

/** The HTML report's telemetry plots: queue depth and KV use per backend over its window. */
export function telemetryCharts(summary: RunSummary, colors: ReadonlyMap<string, string>): Chart[] {
  return CHARTS.map((spec) => gaugeChart(spec, summary, colors));
}
