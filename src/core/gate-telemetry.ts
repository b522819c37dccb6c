// The gate's policies on cost per 1K tokens and joules per output token, judged with the same statistics
// as latency: per-request values, a one-sided Wilcoxon signed-rank test (paired per case against the
// baseline, or one-sample against a ceiling), at the policy's alpha and with its minimum sample count.
// Pure.

import { apportionEnergy } from './energy.ts';
import { ConformError } from './errors.ts';
import { mannWhitneyU, quantile, wilcoxonSignedRank } from './statistics.ts';
import type { BackendTelemetry } from './telemetry-types.ts';
import { requestCostPer1k } from './throughput.ts';
import type { BackendRun, CaseResult, RunSummary } from './types.ts';
import type { GateReason } from './gate.ts';

/** A ceiling, a largest relative increase over the baseline, or both. */
export interface TelemetryPolicy {
  /** Fails when the backend's figure is above it and its requests are significantly above it. */
  max?: number;
  /** Fails when the per-case values grew by more than this fraction, significantly. @example 0.25 */
  increase?: number;
}

export type TelemetryMetric = 'cost-per-1k' | 'joules-per-token';

export interface TelemetryComparison {
  backend: string;
  metric: TelemetryMetric;
  outcome: 'ok' | 'over-limit' | 'regressed' | 'not-judged';
  /** The backend's figure in the run (the summary's cost per 1K tokens, or joules per output token). */
  measured?: number | null;
  max?: number;
  increase?: number;
  /** Requests judged, and the one-sided p-value of the test that decided. */
  n?: number;
  p?: number;
  medianRatio?: number;
  message: string;
}

export interface TelemetryGateInput {
  alpha: number;
  minSamples: number;
  costPer1k?: TelemetryPolicy;
  joulesPerToken?: TelemetryPolicy;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Validates `costPer1k` or `joulesPerToken` from a policy file, naming the field at fault. */
export function validateTelemetryPolicy(raw: unknown, field: string, source: string): TelemetryPolicy {
  const bad = (what: string): never => {
    throw new ConformError('CONFIG_INVALID', `${source}: ${field}${what}`);
  };
  if (!isObject(raw)) return bad(` must be an object with max and/or increase, for example { max: 0.002, increase: 0.25 }`);
  for (const key of Object.keys(raw)) if (key !== 'max' && key !== 'increase') bad(`: unknown field "${key}"; known: max, increase`);
  const policy: TelemetryPolicy = {};
  if (raw.max !== undefined) {
    if (typeof raw.max !== 'number' || !(raw.max > 0) || !Number.isFinite(raw.max)) bad(`.max ${JSON.stringify(raw.max)} must be a number > 0, for example 0.002`);
    policy.max = raw.max as number;
  }
  if (raw.increase !== undefined) {
    if (typeof raw.increase !== 'number' || !(raw.increase >= 0) || !Number.isFinite(raw.increase)) bad(`.increase ${JSON.stringify(raw.increase)} must be a fraction ≥ 0, for example 0.25 for 25 %`);
    policy.increase = raw.increase as number;
  }
  if (policy.max === undefined && policy.increase === undefined) bad(' needs max, increase or both');
  return policy;
}

/** Per-request cost per 1K tokens of a backend's ok results with usage, by result id. */
function costValues(run: BackendRun, results: readonly CaseResult[]): Map<string, number> {
  const t = run.telemetry;
  const values = new Map<string, number>();
  if (!t?.cost) return values;
  const cost = { perHour: t.cost.perHour, per1kInput: t.cost.per1kInput, per1kOutput: t.cost.per1kOutput };
  for (const r of results) {
    const s = r.sample;
    if (r.backend !== run.name || s?.kind !== 'ok' || !s.usage) continue;
    const v = requestCostPer1k(cost, { ...s.usage, durationMs: s.timings.endMs }, t.concurrency);
    if (v !== undefined && Number.isFinite(v) && v > 0) values.set(r.id, v);
  }
  return values;
}

/** Per-request joules per output token from the backend's energy series, time shared among requests in flight. */
function energyValues(run: BackendRun, results: readonly CaseResult[]): Map<string, number> {
  const t = run.telemetry;
  const values = new Map<string, number>();
  const series = t?.energy.series;
  if (!t || !series || series.length < 2) return values;
  const start = Date.parse(t.window.startedAt);
  const mine = results.filter((r) => r.backend === run.name && r.sample?.kind === 'ok' && r.sample.usage && r.sample.usage.completionTokens > 0);
  const intervals = mine.map((r) => {
    const at = Date.parse(r.sample!.startedAt) - start;
    return [at, at + r.sample!.timings.endMs] as const;
  });
  apportionEnergy(series, intervals).forEach((joules, i) => {
    if (joules > 0) values.set(mine[i]!.id, joules / mine[i]!.sample!.usage!.completionTokens);
  });
  return values;
}

const figureOf = (t: BackendTelemetry | undefined, metric: TelemetryMetric) => (metric === 'cost-per-1k' ? t?.cost?.per1kTokens : t?.energy.joulesPerOutputToken);
const show = (metric: TelemetryMetric, v: number) => (metric === 'cost-per-1k' ? `${Number(v.toPrecision(3))} per 1K tokens` : `${Number(v.toPrecision(3))} J per output token`);
const label = (metric: TelemetryMetric) => (metric === 'cost-per-1k' ? 'cost per 1K tokens' : 'joules per output token');

function judge(metric: TelemetryMetric, policy: TelemetryPolicy, current: RunSummary, baseline: RunSummary, run: BackendRun, input: TelemetryGateInput): TelemetryComparison[] {
  const out: TelemetryComparison[] = [];
  const backend = run.name;
  const measured = figureOf(run.telemetry, metric);
  const base = { backend, metric, measured: measured ?? null };
  if (measured === null || measured === undefined) {
    const why =
      metric === 'cost-per-1k'
        ? run.telemetry?.cost?.reason ?? (run.telemetry ? 'the backend has no cost in its config' : 'the run record has no telemetry')
        : run.telemetry?.energy.reason ?? 'the run record has no telemetry';
    return [{ ...base, outcome: 'not-judged', message: `${backend}: ${label(metric)} not judged: ${why}` }];
  }
  const values = metric === 'cost-per-1k' ? costValues(run, current.results) : energyValues(run, current.results);
  if (policy.max !== undefined) {
    const xs = [...values.values()];
    const c = { ...base, max: policy.max, n: xs.length };
    if (xs.length < input.minSamples)
      out.push({ ...c, outcome: 'not-judged', message: `${backend}: ${label(metric)} ${show(metric, measured)} against the ceiling ${show(metric, policy.max)} not judged: ${xs.length} requests, policy minSamples ${input.minSamples}` });
    else {
      const test = wilcoxonSignedRank(xs, xs.map(() => policy.max!));
      const over = measured > policy.max && test.p < input.alpha;
      out.push({
        ...c,
        outcome: over ? 'over-limit' : 'ok',
        p: test.p,
        message: over
          ? `${backend}: ${label(metric)} ${show(metric, measured)} is over the policy's ceiling ${show(metric, policy.max)}; one-sided Wilcoxon signed-rank over ${xs.length} requests p=${test.p.toPrecision(3)} < α=${input.alpha}`
          : `${backend}: ${label(metric)} ${show(metric, measured)} within the ceiling ${show(metric, policy.max)}${measured > policy.max ? ` (above it, but not significantly: p=${test.p.toPrecision(3)} over ${xs.length} requests)` : ''}`,
      });
    }
  }
  if (policy.increase !== undefined) {
    const old = baseline.backends.find((b) => b.name === backend);
    const before = old ? (metric === 'cost-per-1k' ? costValues(old, baseline.results) : energyValues(old, baseline.results)) : new Map<string, number>();
    const pairs = [...values].flatMap(([id, v]) => (before.has(id) ? [[v, before.get(id)!] as const] : []));
    const c = { ...base, increase: policy.increase };
    if (pairs.length >= input.minSamples) {
      const test = wilcoxonSignedRank(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
      const medianRatio = quantile(pairs.map(([a, b]) => a / b), 0.5);
      const regressed = test.p < input.alpha && medianRatio - 1 > policy.increase;
      out.push({
        ...c,
        outcome: regressed ? 'regressed' : 'ok',
        n: pairs.length,
        p: test.p,
        medianRatio,
        message: `${backend}: ${label(metric)} ${medianRatio.toFixed(2)}x the baseline on the median case (limit +${(policy.increase * 100).toFixed(0)} %); one-sided Wilcoxon signed-rank over ${pairs.length} paired cases p=${test.p.toPrecision(3)}${regressed ? ` < α=${input.alpha}` : ''}`,
      });
    } else if (values.size >= input.minSamples && before.size >= input.minSamples) {
      const after = [...values.values()];
      const earlier = [...before.values()];
      const test = mannWhitneyU(after, earlier);
      const medianRatio = quantile(after, 0.5) / quantile(earlier, 0.5);
      const regressed = test.p < input.alpha && medianRatio - 1 > policy.increase;
      out.push({
        ...c,
        outcome: regressed ? 'regressed' : 'ok',
        n: after.length,
        p: test.p,
        medianRatio,
        message: `${backend}: ${label(metric)} median ${medianRatio.toFixed(2)}x the baseline's (limit +${(policy.increase * 100).toFixed(0)} %); one-sided Mann–Whitney U over ${after.length} vs ${earlier.length} requests p=${test.p.toPrecision(3)}${regressed ? ` < α=${input.alpha}` : ''}`,
      });
    } else
      out.push({ ...c, outcome: 'not-judged', message: `${backend}: ${label(metric)} not compared with the baseline: ${values.size} requests now, ${before.size} in the baseline (policy minSamples ${input.minSamples} on each side)` });
  }
  return out;
}

/** Every cost and energy comparison the policy asks for, per backend of the current run. */
export function compareTelemetry(current: RunSummary, baseline: RunSummary, input: TelemetryGateInput): TelemetryComparison[] {
  const out: TelemetryComparison[] = [];
  for (const run of [...current.backends].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (run.state !== 'ran') continue;
    if (input.costPer1k) out.push(...judge('cost-per-1k', input.costPer1k, current, baseline, run, input));
    if (input.joulesPerToken) out.push(...judge('joules-per-token', input.joulesPerToken, current, baseline, run, input));
  }
  return out;
}

/** The gate's reasons from the comparisons: over a ceiling or regressed fails; not judged is shown. */
export function telemetryReasons(comparisons: readonly TelemetryComparison[]): GateReason[] {
  return comparisons.flatMap((c): GateReason[] => {
    const energy = c.metric === 'joules-per-token';
    if (c.outcome === 'over-limit') return [{ kind: energy ? 'energy-over-limit' : 'cost-over-limit', severity: 'failure', backend: c.backend, message: c.message }];
    if (c.outcome === 'regressed') return [{ kind: energy ? 'energy-regression' : 'cost-regression', severity: 'failure', backend: c.backend, message: c.message }];
    if (c.outcome === 'not-judged') return [{ kind: 'telemetry-not-judged', severity: 'info', backend: c.backend, message: c.message }];
    return [];
  });
}
