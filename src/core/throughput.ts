// Throughput and cost per 1K tokens from the requests a backend served. Pure.
//
// Definitions:
// - steady state: every successful request with usage except the backend's first (warm-up, first
//   shapes, caches still cold);
// - busy time: the union of the steady requests' [start, end] intervals, so overlapping requests are
//   counted once: tokens/s over busy time is what the machine delivered at the run's concurrency;
// - prefill tokens/s: Σ uncached prompt tokens ÷ Σ client TTFT over streamed requests (TTFT includes the
//   network and any queueing: a client's view, not the kernel's);
// - decode tokens/s: Σ (output tokens − 1) ÷ Σ (end-to-end − TTFT) over streamed requests with ≥ 2 tokens;
// - cost per 1K tokens: the cost of the steady requests ÷ their tokens × 1000. With a machine price that
//   is perHour × busy hours, i.e. perHour ÷ (3.6 × tokens/s); with an API price it is the price of their
//   input and output tokens.

import type { CostConfig, CostFigures, RequestRecord, Throughput } from './telemetry-types.ts';

/** The requests the figures are taken from: ok, with usage, not the first one sent. */
export function steadyRequests(records: readonly RequestRecord[]): RequestRecord[] {
  const ordered = [...records].sort((a, b) => a.startMs - b.startMs);
  return ordered.slice(1).filter((r) => r.ok && r.promptTokens !== undefined && r.completionTokens !== undefined);
}

/** Milliseconds during which at least one interval was open. */
export function busyTime(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let open: [number, number] | undefined;
  for (const [a, b] of sorted) {
    if (!open || a > open[1]) {
      if (open) total += open[1] - open[0];
      open = [a, b];
    } else open[1] = Math.max(open[1], b);
  }
  if (open) total += open[1] - open[0];
  return total;
}

/** The most intervals open at one moment. */
export function maxOverlap(intervals: ReadonlyArray<readonly [number, number]>): number {
  const events = intervals.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, step] of events) most = Math.max(most, (open += step));
  return most;
}

const perSecond = (tokens: number, ms: number) => (ms > 0 && tokens > 0 ? tokens / (ms / 1000) : null);

/** Tokens per second, prefill and decode separately, over the steady-state requests. */
export function throughputOf(records: readonly RequestRecord[]): Throughput {
  const steady = steadyRequests(records);
  const intervals = steady.map((r) => [r.startMs, r.endMs] as const);
  const inputTokens = steady.reduce((n, r) => n + r.promptTokens!, 0);
  const outputTokens = steady.reduce((n, r) => n + r.completionTokens!, 0);
  const busyMs = busyTime(intervals);
  const streamed = steady.filter((r) => r.streamed && r.ttftMs !== undefined && r.ttftMs > 0);
  const prefillTokens = streamed.reduce((n, r) => n + Math.max(0, r.promptTokens! - (r.cachedPromptTokens ?? 0)), 0);
  const prefillMs = streamed.reduce((n, r) => n + r.ttftMs!, 0);
  const decoding = streamed.filter((r) => r.completionTokens! >= 2 && r.endMs - r.startMs > r.ttftMs!);
  const decodeTokens = decoding.reduce((n, r) => n + r.completionTokens! - 1, 0);
  const decodeMs = decoding.reduce((n, r) => n + (r.endMs - r.startMs - r.ttftMs!), 0);
  const throughput: Throughput = {
    requests: steady.length,
    maxInFlight: maxOverlap(records.map((r) => [r.startMs, r.endMs] as const)),
    inputTokens,
    outputTokens,
    busyMs,
    tokensPerSecond: perSecond(inputTokens + outputTokens, busyMs),
    outputTokensPerSecond: perSecond(outputTokens, busyMs),
    prefillTokensPerSecond: perSecond(prefillTokens, prefillMs),
    decodeTokensPerSecond: perSecond(decodeTokens, decodeMs),
    streamedRequests: streamed.length,
  };
  const reasons: string[] = [];
  if (steady.length === 0)
    reasons.push(records.length <= 1 ? 'no request after the first (the first is warm-up and not counted)' : 'no successful request with usage after the first');
  else {
    if (streamed.length === 0) reasons.push('no streamed request, so prefill and decode cannot be told apart (TTFT splits them)');
    else if (throughput.prefillTokensPerSecond === null) reasons.push('every streamed prompt came from the cache: no prefill to time');
    if (streamed.length > 0 && decoding.length === 0) reasons.push('no streamed answer had two tokens or more: no decode to time');
  }
  if (reasons.length) throughput.reason = reasons.join('; ');
  return throughput;
}

/** Cost per 1K tokens from a cost config and the throughput it applies to; null figures say why. */
export function costFigures(cost: CostConfig, throughput: Throughput): CostFigures {
  const currency = cost.currency ?? 'USD';
  const base = { currency, ...(cost.note !== undefined && { note: cost.note }) };
  const total = throughput.inputTokens + throughput.outputTokens;
  let spent: number | null = null;
  let figures: CostFigures;
  if (cost.perHour !== undefined) {
    figures = { ...base, basis: 'per-hour', perHour: cost.perHour, per1kTokens: null, per1kOutputTokens: null };
    if (throughput.busyMs > 0) spent = (cost.perHour * throughput.busyMs) / 3_600_000;
  } else {
    figures = { ...base, basis: 'per-token', per1kInput: cost.per1kInput, per1kOutput: cost.per1kOutput, per1kTokens: null, per1kOutputTokens: null };
    spent = ((cost.per1kInput ?? 0) * throughput.inputTokens + (cost.per1kOutput ?? 0) * throughput.outputTokens) / 1000;
  }
  if (spent !== null && total > 0) figures.per1kTokens = (spent / total) * 1000;
  if (spent !== null && throughput.outputTokens > 0) figures.per1kOutputTokens = (spent / throughput.outputTokens) * 1000;
  if (figures.per1kTokens === null) figures.reason = `no steady-state tokens to price${throughput.reason ? ` (${throughput.reason})` : ''}`;
  return figures;
}

/**
 * One request's cost per 1K tokens, for the gate's statistics: a machine price shared by the requests
 * in flight with it (`concurrency`), or the API price of its own token mix.
 */
export function requestCostPer1k(cost: CostConfig, request: { promptTokens: number; completionTokens: number; durationMs: number }, concurrency: number): number | undefined {
  const tokens = request.promptTokens + request.completionTokens;
  if (!(tokens > 0)) return undefined;
  const spent =
    cost.perHour !== undefined
      ? (cost.perHour * request.durationMs) / 3_600_000 / Math.max(1, concurrency)
      : ((cost.per1kInput ?? 0) * request.promptTokens + (cost.per1kOutput ?? 0) * request.completionTokens) / 1000;
  return (spent / tokens) * 1000;
}
