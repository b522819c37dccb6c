// Latency figures of streamed samples, named so that nobody has to guess which definition they follow.
// Pure: takes Samples (timings in monotonic ms relative to the request being sent), returns numbers.
//
// Definitions (all in milliseconds):
// - TTFT  time to first token: `timings.firstTokenMs`, the arrival of the first event that carried content,
//         reasoning or a tool-call delta. A role-only chunk does not count, so a sample without any content
//         has no TTFT.
// - E2EL  end-to-end latency: `timings.endMs`, from sending the request to the end of the body.
// - ITL   inter-token latency, per chunk: the gaps between the arrival times of consecutive content-carrying
//         events (`timings.chunkMs`). Events that arrived in one network read share an arrival time, so a gap
//         of 0 is possible and kept: the client really did see them together.
// - ITL per token: each ITL gap divided by the number of tokens the later chunk carried: that chunk's own count
//         (`timings.chunkTokens`, from its logprobs) where known, else an even spread (see `tokensPerChunk`).
//         Servers pack several tokens into one chunk (vLLM #27485), which makes per-chunk ITL look several times
//         slower than the decoder is. One value per gap, like ITL, not one per token.
// - TPOT  time per output token, excluding the first: (E2EL − TTFT) / (n − 1), the vLLM benchmark and MLPerf
//         definition. GuideLLM's "TPOT" divides by all n tokens, first one included, so its figures are not
//         comparable with these; ours is undefined when n < 2.

import type { Sample } from './types.ts';

/** Where a sample's output token count came from, most trustworthy first. */
export type OutputTokenSource = 'usage' | 'logprobs' | 'chunks';

export interface SampleLatency {
  /** Time to first content-carrying token; undefined when none arrived (role-only stream, non-streamed answer). */
  ttftMs?: number;
  /** End-to-end latency: request sent to end of body. */
  e2elMs: number;
  /** Gaps between consecutive content-carrying chunks, in arrival order; one fewer than the chunks. */
  itlMs: number[];
  /** `itlMs`, each divided by the tokens its later chunk carried; empty when that cannot be derived. */
  itlPerTokenMs: number[];
  /** Mean tokens per content chunk; fractional for an even spread (see below). */
  tokensPerChunk?: number;
  /** Where the per-chunk token counts came from: each chunk's own logprobs, or an even spread of a total. */
  tokensPerChunkSource?: 'chunk-logprobs' | 'even-spread';
  /** (E2EL − TTFT) / (n − 1): decode time per token after the first (vLLM/MLPerf TPOT, not GuideLLM's). */
  tpotMs?: number;
  /** Output tokens n: usage.completionTokens, else the logprob token count, else the content chunk count. */
  outputTokens?: number;
  outputTokensSource?: OutputTokenSource;
}

/** Summary statistics of one metric; every figure is null when there were no values. */
export interface LatencyStats {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
}

export interface BackendLatency {
  ttftMs: LatencyStats;
  e2elMs: LatencyStats;
  /** Pooled over every gap of every sample, as the vLLM benchmark does, not averaged per sample first. */
  itlMs: LatencyStats;
  itlPerTokenMs: LatencyStats;
  tpotMs: LatencyStats;
}

function outputTokensOf(sample: Sample): { n: number; source: OutputTokenSource } | undefined {
  const usage = sample.usage?.completionTokens;
  if (typeof usage === 'number' && Number.isFinite(usage) && usage >= 0) return { n: usage, source: 'usage' };
  // An empty token list means logprobs were not asked for, not that nothing was generated.
  if (sample.tokens.length > 0) return { n: sample.tokens.length, source: 'logprobs' };
  if (sample.timings.chunkMs.length > 0) return { n: sample.timings.chunkMs.length, source: 'chunks' };
  return undefined;
}

// How many tokens each content chunk carried:
// - each chunk's own count, `timings.chunkTokens`, where the runner could read it from the chunk's logprobs;
// - else as many logprob tokens as content chunks: one token per chunk (the common unpacked stream);
// - otherwise, with a token count from usage (or logprobs), the tokens are spread evenly over the chunks:
//   n / chunks each, possibly fractional. This is exact when the server packs a fixed number of tokens per
//   chunk and an average otherwise (16 tokens in chunks of 3 and a last of 1 read 2.67 per chunk, where the
//   true figure is 3); the first chunk's share is covered by TTFT, not by any gap;
// - with neither, the count is unknown and no per-token ITL is given (assuming 1 would only relabel ITL).
function tokensPerChunkOf(sample: Sample): { perChunk: number[]; source: 'chunk-logprobs' | 'even-spread' } | undefined {
  const chunks = sample.timings.chunkMs.length;
  if (chunks === 0) return undefined;
  const own = sample.timings.chunkTokens;
  if (own && own.length === chunks && own.every((n) => Number.isFinite(n) && n > 0)) return { perChunk: own, source: 'chunk-logprobs' };
  if (sample.tokens.length > 0 && sample.tokens.length === chunks) return { perChunk: new Array<number>(chunks).fill(1), source: 'even-spread' };
  const out = outputTokensOf(sample);
  if (out === undefined || out.source === 'chunks' || out.n <= 0) return undefined;
  return { perChunk: new Array<number>(chunks).fill(out.n / chunks), source: 'even-spread' };
}

/** The latency figures of one sample; see the definitions at the top of this file. */
export function sampleLatency(sample: Sample): SampleLatency {
  const { firstTokenMs, chunkMs, endMs } = sample.timings;
  const itlMs: number[] = [];
  for (let i = 1; i < chunkMs.length; i++) itlMs.push(chunkMs[i]! - chunkMs[i - 1]!);
  const split = tokensPerChunkOf(sample);
  const itlPerTokenMs = split === undefined ? [] : itlMs.map((gap, i) => gap / split.perChunk[i + 1]!);

  const result: SampleLatency = { e2elMs: endMs, itlMs, itlPerTokenMs };
  if (firstTokenMs !== undefined) result.ttftMs = firstTokenMs;
  if (split !== undefined) {
    result.tokensPerChunk = split.perChunk.reduce((s, n) => s + n, 0) / split.perChunk.length;
    result.tokensPerChunkSource = split.source;
  }
  const out = outputTokensOf(sample);
  if (out !== undefined) {
    result.outputTokens = out.n;
    result.outputTokensSource = out.source;
    if (firstTokenMs !== undefined && out.n >= 2) result.tpotMs = (endMs - firstTokenMs) / (out.n - 1);
  }
  return result;
}

function checkValues(values: readonly number[]): void {
  if (values.length === 0) throw new RangeError('percentile of no values');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`percentile of a non-finite value: ${v}`);
}

function checkP(p: number): void {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile rank must be within [0, 100], got ${p}`);
}

// Linear interpolation between closest ranks on ascending values x[0..n-1]: rank h = (n − 1) · p / 100,
// result x[⌊h⌋] + (h − ⌊h⌋) · (x[⌊h⌋+1] − x[⌊h⌋]). This is Hyndman & Fan's method 7, the default of NumPy
// (`method='linear'`), R and Excel's PERCENTILE.INC, and what the vLLM benchmark reports (it calls NumPy).
// p0 is the minimum and p100 the maximum. The result is clamped to its two neighbours so that floating-point
// rounding cannot make it step outside them, which keeps it monotone in p.
function percentileOfSorted(sorted: readonly number[], p: number): number {
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const frac = h - lo;
  const a = sorted[lo]!;
  if (frac === 0 || lo + 1 >= sorted.length) return a;
  const b = sorted[lo + 1]!;
  const span = b - a;
  // a + frac·(b − a) is exact at the ends; the weighted form only for spans beyond Number.MAX_VALUE.
  const value = Number.isFinite(span) ? a + frac * span : (1 - frac) * a + frac * b;
  return Math.min(b, Math.max(a, value));
}

/** The p-th percentile (p in [0, 100]) of `values`, by linear interpolation (NumPy's default); throws on no values. */
export function percentile(values: readonly number[], p: number): number {
  checkP(p);
  checkValues(values);
  return percentileOfSorted([...values].sort((x, y) => x - y), p);
}

/** Count, mean, p50/p90/p95/p99 (as `percentile`), min and max; all but count are null for no values. */
export function latencyStats(values: readonly number[]): LatencyStats {
  if (values.length === 0) return { count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, min: null, max: null };
  checkValues(values);
  const sorted = [...values].sort((x, y) => x - y);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const sum = sorted.reduce((s, v) => s + v, 0);
  // The rounded sum over n can land a hair outside [min, max] (three 0.1s average to 0.10000000000000002).
  const mean = Math.min(max, Math.max(min, sum / sorted.length));
  return {
    count: sorted.length,
    mean,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    min,
    max,
  };
}

/**
 * Latency statistics of one backend's samples. Failed samples are left out: their timings measure the
 * failure. TTFT, ITL and TPOT are taken only from streamed samples (a one-piece answer has no first token
 * to time); E2EL from every `ok` sample, streamed or not.
 */
export function backendLatency(samples: readonly Sample[]): BackendLatency {
  const ttft: number[] = [];
  const e2el: number[] = [];
  const itl: number[] = [];
  const itlPerToken: number[] = [];
  const tpot: number[] = [];
  for (const sample of samples) {
    if (sample.kind !== 'ok') continue;
    const latency = sampleLatency(sample);
    e2el.push(latency.e2elMs);
    if (!sample.streamed) continue;
    if (latency.ttftMs !== undefined) ttft.push(latency.ttftMs);
    // Loops, not push(...spread): a long stream has more gaps than a call may take arguments.
    for (const gap of latency.itlMs) itl.push(gap);
    for (const gap of latency.itlPerTokenMs) itlPerToken.push(gap);
    if (latency.tpotMs !== undefined) tpot.push(latency.tpotMs);
  }
  return {
    ttftMs: latencyStats(ttft),
    e2elMs: latencyStats(e2el),
    itlMs: latencyStats(itl),
    itlPerTokenMs: latencyStats(itlPerToken),
    tpotMs: latencyStats(tpot),
  };
}
