// Scrapes of one backend's /metrics, turned into the run record's EngineMetrics: gauges over time, counter
// increases, the TTFT the engine itself saw. Pure.

import type { EngineCounter, EngineGauge, EngineMetrics } from '../../core/telemetry-types.ts';
import { maxOf } from '../../core/statistics.ts';
import type { ParsedMetrics } from './prometheus-text.ts';
import { detectFamily, readVocabulary, type VocabularyEntry } from './server-vocabulary.ts';

export interface Scrape {
  /** Epoch ms when the answer arrived. */
  t: number;
  parsed?: ParsedMetrics;
  /** Why this scrape gave nothing (HTTP status, connection refused). */
  error?: string;
}

/** One scrape in the vocabulary, for the cross-checks that need counters at a point in time. */
export interface VocabularyPoint {
  t: number;
  values: Partial<Record<VocabularyEntry, number>>;
}

const GAUGES: EngineGauge[] = ['queueWaiting', 'running', 'kvCacheUsage'];
const COUNTERS: EngineCounter[] = ['promptTokens', 'generatedTokens', 'prefixCacheHits', 'prefixCacheQueries', 'ttftSumSeconds', 'ttftCount'];
/** Points kept per gauge in the record: enough for a plot, small enough for a summary file. */
export const MAX_SERIES_POINTS = 600;

/** How much a counter rose over its readings; a drop is a restart, after which it counts from 0 again. */
export function counterIncrease(values: ReadonlyArray<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (known.length < 2) return known.length === 1 ? 0 : undefined;
  let rise = 0;
  for (let i = 1; i < known.length; i++) rise += known[i]! >= known[i - 1]! ? known[i]! - known[i - 1]! : known[i]!;
  return rise;
}

/** Every scrape read in the family's vocabulary; the family is the one the scrapes' names point to. */
export function vocabularyPoints(scrapes: readonly Scrape[]): { family?: string; points: VocabularyPoint[]; sources: EngineMetrics['sources'] } {
  const all = scrapes.flatMap((s) => s.parsed?.samples ?? []);
  const family = detectFamily(all);
  if (!family) return { points: [], sources: {} };
  const sources: EngineMetrics['sources'] = {};
  const points = scrapes.flatMap((s) => {
    if (!s.parsed) return [];
    const read = readVocabulary(s.parsed.samples, family);
    Object.assign(sources, read.sources);
    return [{ t: s.t, values: read.values }];
  });
  return { family: family.name, points, sources };
}

/** Bucket maxima: a thinned gauge keeps its peaks, which are what a queue plot is read for. */
function thin(t: number[], columns: Array<Array<number | null>>, max: number): { t: number[]; columns: Array<Array<number | null>> } {
  if (t.length <= max) return { t, columns };
  const size = Math.ceil(t.length / max);
  const outT: number[] = [];
  const out = columns.map(() => [] as Array<number | null>);
  for (let i = 0; i < t.length; i += size) {
    outT.push(t[Math.min(i + size - 1, t.length - 1)]!);
    columns.forEach((col, c) => {
      const bucket = col.slice(i, i + size).filter((v): v is number => v !== null);
      out[c]!.push(bucket.length ? maxOf(bucket) : null);
    });
  }
  return { t: outT, columns: out };
}

const round = (v: number, digits = 6) => Number(v.toPrecision(digits));

/** The record's EngineMetrics from every scrape of the window (which began at `windowStart`, epoch ms), read in the vocabulary by `vocabularyPoints`. */
export function summarizeMetrics(scrapes: readonly Scrape[], read: ReturnType<typeof vocabularyPoints>, options: { url: string; intervalMs: number; windowStart: number }): EngineMetrics {
  const failed = scrapes.filter((s) => !s.parsed);
  const { family, points, sources } = read;
  const metrics: EngineMetrics = {
    url: options.url,
    family: family ?? null,
    intervalMs: options.intervalMs,
    scrapes: scrapes.length,
    failedScrapes: failed.length,
    sources,
    series: { t: [] },
    summary: {},
  };
  if (scrapes.length === 0) metrics.reason = 'no scrape was taken';
  else if (failed.length === scrapes.length) metrics.reason = `every scrape failed: ${failed[0]!.error ?? 'no answer'}`;
  else if (!family) metrics.reason = 'the endpoint answered, but with no metric name conform knows (docs/telemetry.md lists them)';
  else if (failed.length) metrics.reason = `${failed.length} of ${scrapes.length} scrapes failed, the first: ${failed[0]!.error ?? 'no answer'}`;
  if (!family) return metrics;

  const present = GAUGES.filter((g) => points.some((p) => p.values[g] !== undefined));
  const thinned = thin(
    points.map((p) => Math.round(p.t - options.windowStart)),
    present.map((g) => points.map((p) => (p.values[g] === undefined ? null : round(p.values[g]!)))),
    MAX_SERIES_POINTS,
  );
  metrics.series = { t: thinned.t };
  present.forEach((g, i) => (metrics.series[g] = thinned.columns[i]!));

  const summary = metrics.summary;
  const values = (entry: VocabularyEntry) => points.map((p) => p.values[entry]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const queue = values('queueWaiting');
  if (queue.length) (summary.queueWaitingMax = maxOf(queue)), (summary.queueWaitingMean = round(mean(queue), 4));
  const running = values('running');
  if (running.length) summary.runningMax = maxOf(running);
  const kv = values('kvCacheUsage');
  if (kv.length) (summary.kvCacheUsageMax = round(maxOf(kv), 4)), (summary.kvCacheUsageMean = round(mean(kv), 4));
  const rate = values('prefixCacheHitRate');
  if (rate.length) summary.prefixCacheHitRate = round(rate[rate.length - 1]!, 4);
  const rise = Object.fromEntries(COUNTERS.map((c) => [c, counterIncrease(points.map((p) => p.values[c]))])) as Record<EngineCounter, number | undefined>;
  if (rise.promptTokens !== undefined) summary.promptTokens = rise.promptTokens;
  if (rise.generatedTokens !== undefined) summary.generatedTokens = rise.generatedTokens;
  if (rise.prefixCacheHits !== undefined) summary.prefixCacheHits = rise.prefixCacheHits;
  if (rise.prefixCacheQueries !== undefined) summary.prefixCacheQueries = rise.prefixCacheQueries;
  if (rise.ttftCount !== undefined) {
    summary.ttftCount = rise.ttftCount;
    if (rise.ttftCount > 0 && rise.ttftSumSeconds !== undefined) summary.ttftMeanMs = round((rise.ttftSumSeconds / rise.ttftCount) * 1000, 5);
  }
  return metrics;
}
