// The release gate: is the current run at least as good as the approved baseline? Pure: the
// summaries, the policy and the clock come in, a decision with one readable line per reason comes out.

import { ConformError } from './errors.ts';
import type { CaseResult, RunSummary, Sample } from './types.ts';
import { mannWhitneyU, quantile, wilcoxonSignedRank } from './statistics.ts';
import { compareTelemetry, telemetryReasons, validateTelemetryPolicy, type TelemetryComparison, type TelemetryPolicy } from './gate-telemetry.ts';

export { erfc, mannWhitneyU, normalUpperTail, quantile, wilcoxonSignedRank, type MannWhitneyResult } from './statistics.ts';

/** A known failure that is accepted until a date: the case still runs and is reported, but does not fail the gate. */
export interface GateCaveat {
  backend: string;
  /** Omitted: every suite of the backend. */
  suite?: string;
  /** A case id (as in the suite file); omitted: every case of the suite or backend. */
  case?: string;
  reason: string;
  /** ISO date or date-time; the caveat applies strictly before it (a bare date means midnight UTC). */
  expires: string;
}

export interface GatePolicy {
  /** Significance level of the one-sided Mann–Whitney U test on latency. @default 0.01 */
  alpha?: number;
  /** Relative p90 increase that, together with significance, counts as a latency regression. @default 0.25 (25 %) */
  p90Increase?: number;
  /** Samples needed on each side before latency is judged at all. @default 8 */
  minSamples?: number;
  /** A previously passing case now skipped fails the gate instead of being reported. @default false */
  failOnNewSkips?: boolean;
  caveats?: GateCaveat[];
  /** A ceiling on cost per 1K tokens and/or its largest increase over the baseline (gate-telemetry.ts). */
  costPer1k?: TelemetryPolicy;
  /** The same on joules per output token; a backend whose energy was not measured is reported, not failed. */
  joulesPerToken?: TelemetryPolicy;
}

type OptionalPolicies = 'costPer1k' | 'joulesPerToken';
type ResolvedPolicy = Required<Omit<GatePolicy, OptionalPolicies>> & Pick<GatePolicy, OptionalPolicies>;

export const DEFAULT_GATE_POLICY: Required<Omit<GatePolicy, OptionalPolicies>> = { alpha: 0.01, p90Increase: 0.25, minSamples: 8, failOnNewSkips: false, caveats: [] };

export type GateReasonKind =
  | 'regression'
  | 'new-error'
  | 'backend-missing'
  | 'case-missing'
  | 'newly-skipped'
  | 'latency-regression'
  | 'latency-not-enough-samples'
  | 'expected-failure'
  | 'caveat-expired'
  | 'caveat-unused'
  | 'new-case-failing'
  | 'cost-over-limit'
  | 'energy-over-limit'
  | 'cost-regression'
  | 'energy-regression'
  | 'telemetry-not-judged';

export interface GateReason {
  kind: GateReasonKind;
  /** Only failures fail the gate; info is shown and does not. */
  severity: 'failure' | 'info';
  /** One line naming backend, suite and case. */
  message: string;
  backend?: string;
  suite?: string;
  caseId?: string;
}

export type LatencyMetric = 'e2e' | 'ttft';

/** One latency comparison, kept whatever its outcome so that CI logs show what was measured. */
export interface LatencyComparison {
  backend: string;
  metric: LatencyMetric;
  baselineCount: number;
  currentCount: number;
  outcome: 'ok' | 'regressed' | 'not-enough-samples';
  baselineP90?: number;
  currentP90?: number;
  /** (current p90 − baseline p90) / baseline p90. */
  relativeIncrease?: number;
  /** One-sided p-value: current later than baseline. */
  p?: number;
  u?: number;
  z?: number;
  /** Which test decided: per-case pairs when both runs share enough cases, else the pooled samples. */
  test?: 'wilcoxon-signed-rank' | 'mann-whitney';
  /** Median over shared cases of current / baseline. */
  medianRatio?: number;
}

/** Who promoted a run to the baseline, when and why; stored inside the baseline file. */
export interface Approval {
  by: string;
  at: string;
  reason: string;
  runId: string;
}

/** A baseline file: the approved run's summary with its approval. */
export type Baseline = RunSummary & { approval?: Approval };

export interface GateDecision {
  pass: boolean;
  reasons: GateReason[];
  latency: LatencyComparison[];
  /** Cost and energy comparisons, when the policy asks for them. */
  telemetry?: TelemetryComparison[];
}

// ---------------------------------------------------------------------------------------------
// Statistics

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Validates a policy read from JSON or YAML, naming the file and the field at fault. */
export function validateGatePolicy(raw: unknown, source: string): GatePolicy {
  const bad = (what: string): never => {
    throw new ConformError('CONFIG_INVALID', `${source}: ${what}`);
  };
  if (raw === null || raw === undefined) return {};
  if (!isObject(raw)) return bad('a gate policy is an object with alpha, p90Increase, minSamples, failOnNewSkips and caveats');
  const known = new Set(['alpha', 'p90Increase', 'minSamples', 'failOnNewSkips', 'caveats', 'costPer1k', 'joulesPerToken']);
  for (const key of Object.keys(raw)) if (!known.has(key)) bad(`unknown field "${key}"; known: ${[...known].join(', ')}`);
  const policy: GatePolicy = {};
  if (raw.alpha !== undefined) {
    if (typeof raw.alpha !== 'number' || !(raw.alpha > 0 && raw.alpha < 1)) bad(`alpha ${JSON.stringify(raw.alpha)} must be a number between 0 and 1, for example 0.01`);
    policy.alpha = raw.alpha as number;
  }
  if (raw.p90Increase !== undefined) {
    if (typeof raw.p90Increase !== 'number' || !(raw.p90Increase >= 0) || !Number.isFinite(raw.p90Increase))
      bad(`p90Increase ${JSON.stringify(raw.p90Increase)} must be a fraction ≥ 0, for example 0.25 for 25 %`);
    policy.p90Increase = raw.p90Increase as number;
  }
  if (raw.minSamples !== undefined) {
    if (!Number.isInteger(raw.minSamples) || (raw.minSamples as number) < 2) bad(`minSamples ${JSON.stringify(raw.minSamples)} must be an integer ≥ 2, for example 8`);
    policy.minSamples = raw.minSamples as number;
  }
  if (raw.failOnNewSkips !== undefined) {
    if (typeof raw.failOnNewSkips !== 'boolean') bad(`failOnNewSkips ${JSON.stringify(raw.failOnNewSkips)} must be true or false`);
    policy.failOnNewSkips = raw.failOnNewSkips as boolean;
  }
  if (raw.costPer1k !== undefined) policy.costPer1k = validateTelemetryPolicy(raw.costPer1k, 'costPer1k', source);
  if (raw.joulesPerToken !== undefined) policy.joulesPerToken = validateTelemetryPolicy(raw.joulesPerToken, 'joulesPerToken', source);
  if (raw.caveats !== undefined) {
    if (!Array.isArray(raw.caveats)) bad('caveats must be a list');
    policy.caveats = (raw.caveats as unknown[]).map((c, i): GateCaveat => {
      const at = `caveats[${i}]`;
      if (!isObject(c)) return bad(`${at} must be an object with backend, reason and expires`);
      for (const key of Object.keys(c)) if (!['backend', 'suite', 'case', 'reason', 'expires'].includes(key)) bad(`${at}: unknown field "${key}"; known: backend, suite, case, reason, expires`);
      if (typeof c.backend !== 'string' || c.backend === '') bad(`${at}.backend must name a backend`);
      if (c.suite !== undefined && typeof c.suite !== 'string') bad(`${at}.suite must be a suite name`);
      if (c.case !== undefined && typeof c.case !== 'string') bad(`${at}.case must be a case id`);
      if (typeof c.reason !== 'string' || c.reason.trim() === '') bad(`${at}.reason must say why the failure is accepted`);
      // YAML reads an unquoted 2026-01-31 as a Date.
      const expires = c.expires instanceof Date ? c.expires.toISOString() : c.expires;
      if (typeof expires !== 'string' || Number.isNaN(Date.parse(expires))) bad(`${at}.expires ${JSON.stringify(c.expires)} must be an ISO date, for example "2026-03-31"`);
      const caveat: GateCaveat = { backend: c.backend as string, reason: c.reason as string, expires: expires as string };
      if (c.suite !== undefined) caveat.suite = c.suite as string;
      if (c.case !== undefined) caveat.case = c.case as string;
      return caveat;
    });
  }
  return policy;
}

// ---------------------------------------------------------------------------------------------
// The gate

const where = (r: Pick<CaseResult, 'backend' | 'suite' | 'caseId'>) => `${r.backend}/${r.suite}/${r.caseId}`;
const oneLine = (text: string, max = 160) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** What went wrong in a result, from its first failing or erroring verdict. */
function why(result: CaseResult): string {
  const verdict = result.verdicts.find((v) => v.status === result.status) ?? result.verdicts.find((v) => v.status === 'fail' || v.status === 'error');
  return verdict ? `${verdict.check}: ${oneLine(verdict.message)}` : result.status;
}

const caveatTarget = (c: GateCaveat) => [c.backend, c.suite ?? '*', c.case ?? '*'].join('/');
const covers = (c: GateCaveat, r: CaseResult) => c.backend === r.backend && (c.suite === undefined || c.suite === r.suite) && (c.case === undefined || c.case === r.caseId);

function backendNames(summary: RunSummary): Set<string> {
  return new Set([...summary.backends.map((b) => b.name), ...summary.results.map((r) => r.backend)]);
}

const METRICS: Array<{ metric: LatencyMetric; label: string; value: (s: Sample) => number | undefined }> = [
  { metric: 'e2e', label: 'end-to-end latency', value: (s) => s.timings.endMs },
  { metric: 'ttft', label: 'TTFT', value: (s) => s.timings.firstTokenMs },
];

const ms = (value: number) => `${value.toFixed(1)} ms`;
const percent = (value: number) => (value === Infinity ? '+∞ %' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`);

/** Per shared case id, the latency now and in the baseline, for a paired test. */
function latencyPairs(current: CaseResult[], baseline: CaseResult[], backend: string, value: (s: Sample) => number | undefined): Array<[number, number]> {
  const valueOf = (r: CaseResult | undefined) => (r?.sample?.kind === 'ok' ? value(r.sample) : undefined);
  const before = new Map(baseline.filter((r) => r.backend === backend).map((r) => [r.id, valueOf(r)]));
  const pairs: Array<[number, number]> = [];
  for (const r of current) {
    if (r.backend !== backend) continue;
    const a = valueOf(r);
    const b = before.get(r.id);
    if (typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b)) pairs.push([a, b]);
  }
  return pairs;
}

/** Latency values of one backend's ok samples over the cases both runs have, so that a changed case mix is not read as a slowdown. */
function latencyValues(results: CaseResult[], backend: string, shared: Set<string>, value: (s: Sample) => number | undefined): number[] {
  const values: number[] = [];
  for (const r of results) {
    if (r.backend !== backend || !shared.has(r.id) || r.sample?.kind !== 'ok') continue;
    const v = value(r.sample);
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) values.push(v);
  }
  return values;
}

function compareLatency(current: RunSummary, baseline: RunSummary, policy: ResolvedPolicy): { comparisons: LatencyComparison[]; reasons: GateReason[] } {
  const comparisons: LatencyComparison[] = [];
  const reasons: GateReason[] = [];
  const regression = (message: string, backend: string) => reasons.push({ kind: 'latency-regression', severity: 'failure', backend, message });
  const currentIds = new Set(current.results.map((r) => r.id));
  const shared = new Set(baseline.results.map((r) => r.id).filter((id) => currentIds.has(id)));
  const currentBackends = backendNames(current);
  for (const backend of [...backendNames(baseline)].filter((b) => currentBackends.has(b)).sort()) {
    for (const { metric, label, value } of METRICS) {
      const before = latencyValues(baseline.results, backend, shared, value);
      const after = latencyValues(current.results, backend, shared, value);
      const base = { backend, metric, baselineCount: before.length, currentCount: after.length };
      if (before.length < policy.minSamples || after.length < policy.minSamples) {
        comparisons.push({ ...base, outcome: 'not-enough-samples' });
        reasons.push({
          kind: 'latency-not-enough-samples',
          severity: 'info',
          backend,
          message: `${backend}: ${label} not compared: not enough samples (${after.length} now, ${before.length} in the baseline; policy minSamples ${policy.minSamples} on each side)`,
        });
        continue;
      }
      const baselineP90 = quantile(before, 0.9);
      const currentP90 = quantile(after, 0.9);
      const relativeIncrease = baselineP90 > 0 ? (currentP90 - baselineP90) / baselineP90 : currentP90 > 0 ? Infinity : 0;
      const pairs = latencyPairs(current.results, baseline.results, backend, value);
      if (pairs.length >= policy.minSamples) {
        // Same cases on both sides: judge the per-case slowdown, not the pooled spread.
        const paired = wilcoxonSignedRank(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
        const medianRatio = quantile(pairs.map(([a, b]) => a / b), 0.5);
        const regressed = paired.p < policy.alpha && medianRatio - 1 > policy.p90Increase;
        comparisons.push({ ...base, outcome: regressed ? 'regressed' : 'ok', baselineP90, currentP90, relativeIncrease, p: paired.p, z: paired.z, test: 'wilcoxon-signed-rank', medianRatio });
        if (regressed)
          regression(
            `${backend}: ${label} ${(medianRatio).toFixed(2)}x the baseline on the median case (limit ${percent(policy.p90Increase)}); ` +
              `one-sided Wilcoxon signed-rank over ${paired.n} paired cases p=${paired.p.toPrecision(3)} < α=${policy.alpha}`,
            backend,
          );
        continue;
      }
      const test = mannWhitneyU(after, before);
      const regressed = test.p < policy.alpha && relativeIncrease > policy.p90Increase;
      comparisons.push({ ...base, outcome: regressed ? 'regressed' : 'ok', baselineP90, currentP90, relativeIncrease, p: test.p, u: test.u, z: test.z, test: 'mann-whitney' });
      if (regressed)
        regression(
          `${backend}: ${label} p90 ${ms(baselineP90)} → ${ms(currentP90)} (${percent(relativeIncrease)}, limit ${percent(policy.p90Increase)}); ` +
            `one-sided Mann–Whitney U=${test.u} p=${test.p.toPrecision(3)} < α=${policy.alpha} over ${after.length} vs ${before.length} samples`,
          backend,
        );
    }
  }
  return { comparisons, reasons };
}

const KIND_ORDER: GateReasonKind[] = [
  'regression',
  'new-error',
  'backend-missing',
  'case-missing',
  'latency-regression',
  'cost-over-limit',
  'energy-over-limit',
  'cost-regression',
  'energy-regression',
  'newly-skipped',
  'expected-failure',
  'caveat-expired',
  'caveat-unused',
  'new-case-failing',
  'latency-not-enough-samples',
  'telemetry-not-judged',
];

/**
 * Compares the current run with the approved baseline. The gate fails on:
 * (a) a case that passed in the baseline and fails or errors now (`regression`);
 * (b) a case that errors now and did not before (`new-error`);
 * (c) shrunken coverage: a baseline backend (`backend-missing`) or case id (`case-missing`) absent
 *     now; a skip counts as present, but a previously passing case now skipped is reported;
 * (d) a latency regression per backend, end-to-end and TTFT: the one-sided Mann–Whitney U test says
 *     current is slower at `alpha` AND the p90 grew by more than `p90Increase`, judged only with
 *     at least `minSamples` on each side (otherwise reported as info);
 * (e) when the policy names them, cost per 1K tokens or joules per output token over a ceiling or
 *     grown past an increase, by the same tests (gate-telemetry.ts).
 * A case failure of kind (a) or (b) covered by an unexpired caveat is an expected failure.
 */
export function evaluateGate(current: RunSummary, baseline: RunSummary, policy: GatePolicy, now: Date): GateDecision {
  if (current.schemaVersion !== baseline.schemaVersion)
    throw new ConformError('RECORD_INVALID', `run ${current.runId} has schemaVersion ${current.schemaVersion} but the baseline ${baseline.runId} has ${baseline.schemaVersion}; approve a new baseline`);
  const p: ResolvedPolicy = { ...DEFAULT_GATE_POLICY, ...Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) };
  const reasons: GateReason[] = [];
  const caveats = p.caveats.map((caveat) => ({ caveat, expired: !(now.getTime() < Date.parse(caveat.expires)), used: false }));
  for (const c of caveats.filter((c) => c.expired))
    reasons.push({
      kind: 'caveat-expired',
      severity: 'info',
      backend: c.caveat.backend,
      ...(c.caveat.suite !== undefined && { suite: c.caveat.suite }),
      ...(c.caveat.case !== undefined && { caseId: c.caveat.case }),
      message: `caveat for ${caveatTarget(c.caveat)} expired ${c.caveat.expires} ("${oneLine(c.caveat.reason)}"); it no longer applies`,
    });
  const live = caveats.filter((c) => !c.expired);

  const currentById = new Map(current.results.map((r) => [r.id, r]));
  const baselineById = new Map(baseline.results.map((r) => [r.id, r]));
  const currentBackends = backendNames(current);

  // Case-level failures, waived by a live caveat.
  const caseFailure = (r: CaseResult, kind: 'regression' | 'new-error', message: string) => {
    const waiver = live.find((c) => covers(c.caveat, r));
    if (waiver) {
      waiver.used = true;
      reasons.push({
        kind: 'expected-failure',
        severity: 'info',
        backend: r.backend,
        suite: r.suite,
        caseId: r.caseId,
        message: `${message} — expected: caveat "${oneLine(waiver.caveat.reason)}" until ${waiver.caveat.expires}`,
      });
    } else reasons.push({ kind, severity: 'failure', backend: r.backend, suite: r.suite, caseId: r.caseId, message });
  };

  for (const r of current.results) {
    const old = baselineById.get(r.id);
    if (r.status === 'fail' || r.status === 'error') for (const c of live) if (covers(c.caveat, r)) c.used = true;
    if (old?.status === 'pass' && (r.status === 'fail' || r.status === 'error'))
      caseFailure(r, 'regression', `${where(r)}: passed in the baseline, ${r.status === 'fail' ? 'fails' : 'errors'} now (${why(r)})`);
    else if (r.status === 'error' && old?.status !== 'error')
      caseFailure(r, 'new-error', `${where(r)}: errors now, ${old ? `was ${old.status} in the baseline` : 'new since the baseline'} (${why(r)})`);
    else if (old?.status === 'pass' && r.status === 'skip')
      reasons.push({
        kind: 'newly-skipped',
        severity: p.failOnNewSkips ? 'failure' : 'info',
        backend: r.backend,
        suite: r.suite,
        caseId: r.caseId,
        message: `${where(r)}: passed in the baseline, skipped now (${why(r)})`,
      });
    else if (!old && r.status === 'fail')
      reasons.push({ kind: 'new-case-failing', severity: 'info', backend: r.backend, suite: r.suite, caseId: r.caseId, message: `${where(r)}: new since the baseline and fails (${why(r)})` });
  }

  // Coverage: whole backends first, then single cases of backends that did run.
  const missingCases = new Map<string, CaseResult[]>();
  for (const old of baseline.results) if (!currentById.has(old.id)) (missingCases.get(old.backend) ?? missingCases.set(old.backend, []).get(old.backend)!).push(old);
  for (const backend of [...backendNames(baseline)].sort()) {
    const missing = missingCases.get(backend) ?? [];
    if (!currentBackends.has(backend)) {
      reasons.push({
        kind: 'backend-missing',
        severity: 'failure',
        backend,
        message: `${backend}: in the baseline but missing from the current run (${missing.length} baseline case${missing.length === 1 ? '' : 's'} not run)`,
      });
      continue;
    }
    for (const old of missing)
      reasons.push({
        kind: 'case-missing',
        severity: 'failure',
        backend: old.backend,
        suite: old.suite,
        caseId: old.caseId,
        message: `${where(old)}: in the baseline (${old.status}) but missing from the current run`,
      });
  }

  const latency = compareLatency(current, baseline, p);
  reasons.push(...latency.reasons);
  const telemetry = p.costPer1k || p.joulesPerToken ? compareTelemetry(current, baseline, { alpha: p.alpha, minSamples: p.minSamples, costPer1k: p.costPer1k, joulesPerToken: p.joulesPerToken }) : undefined;
  if (telemetry) reasons.push(...telemetryReasons(telemetry));

  for (const c of live.filter((c) => !c.used))
    reasons.push({
      kind: 'caveat-unused',
      severity: 'info',
      backend: c.caveat.backend,
      message: `caveat for ${caveatTarget(c.caveat)} ("${oneLine(c.caveat.reason)}", until ${c.caveat.expires}) matches no failing case; remove it once the fix is released`,
    });

  const rank = (r: GateReason) => (r.severity === 'failure' ? 0 : 1) * 100 + KIND_ORDER.indexOf(r.kind);
  reasons.sort((a, b) => rank(a) - rank(b) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  return { pass: !reasons.some((r) => r.severity === 'failure'), reasons, latency: latency.comparisons, ...(telemetry && { telemetry }) };
}
