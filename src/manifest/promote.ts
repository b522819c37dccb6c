// The kernel feedback loop's decision: a variant replaces a backend's recommended plan only when, in
// each of the last N runs, it passed every suite AND beat the current plan on the chosen figure by a
// margin the gate's own paired test calls significant. One lucky run, or a fast plan that breaks a
// suite, is never promoted. Pure: history and policy in, one decision per backend with its reasons.

import { DEFAULT_GATE_POLICY } from '../core/gate.ts';
import { quantile, wilcoxonSignedRank } from '../core/statistics.ts';
import { VARIANT_SEPARATOR } from '../core/variants.ts';
import type { CaseSpeed, HistoryRun, PlanHistory, PlanRun } from './history.ts';
import type { PromotionMetric } from './types.ts';

export interface PromotionPolicy {
  /** Consecutive latest runs a variant must win. */
  stable: number;
  metric: PromotionMetric;
  /** One-sided significance level of the paired Wilcoxon signed-rank test. @default the gate's alpha, 0.01 */
  alpha?: number;
  /** Paired cases needed in a run before it can count as a win. @default the gate's minSamples, 8 */
  minSamples?: number;
}

/** One run's comparison of a variant with the current plan. */
export interface RunComparison {
  runId: string;
  won: boolean;
  /** Why this run counts or not, in one line. */
  why: string;
  pairs?: number;
  p?: number;
  /** Median over paired cases of variant / current (TTFT: below 1 is faster; tokens/s: above 1 is faster). */
  medianRatio?: number;
}

export interface VariantVerdict {
  plan: string;
  runs: RunComparison[];
  wins: number;
}

export interface PromotionDecision {
  backend: string;
  /** The plan in force before: `<backend>` (the base launch) or `<backend>@<variant>`. */
  current: string;
  /** The variant promoted, when one was. */
  promoted?: string;
  /** One line: what happened and why. */
  reason: string;
  variants: VariantVerdict[];
}

const METRIC: Record<PromotionMetric, { key: keyof CaseSpeed; label: string; higherIsBetter: boolean }> = {
  'ttft-p50': { key: 'ttftMs', label: 'TTFT', higherIsBetter: false },
  'tokens-per-second': { key: 'tokensPerSecond', label: 'tokens/s', higherIsBetter: true },
};

/** Paired test of one run: does `candidate` beat `current` on the metric over the cases both answered? */
export function compareInRun(run: HistoryRun, candidate: PlanRun | undefined, current: PlanRun | undefined, policy: Required<PromotionPolicy>): RunComparison {
  const base = { runId: run.runId };
  if (!candidate) return { ...base, won: false, why: 'the variant did not run' };
  if (!current) return { ...base, won: false, why: 'the current plan did not run, so there is nothing to beat' };
  if (!candidate.passedAll) {
    const broken = Object.entries(candidate.suites).filter(([, c]) => c.fail > 0 || c.error > 0).map(([s, c]) => `${s} ${c.fail} failed, ${c.error} errors`);
    return { ...base, won: false, why: `did not pass every suite (${broken.join('; ') || candidate.state})` };
  }
  const { key, label, higherIsBetter } = METRIC[policy.metric];
  const pairs: Array<[number, number]> = [];
  for (const [id, speed] of Object.entries(candidate.cases)) {
    const mine = speed[key];
    const theirs = current.cases[id]?.[key];
    if (mine !== undefined && theirs !== undefined && mine > 0 && theirs > 0) pairs.push([mine, theirs]);
  }
  if (pairs.length < policy.minSamples) return { ...base, won: false, pairs: pairs.length, why: `${pairs.length} paired ${label} cases, fewer than ${policy.minSamples}` };
  // wilcoxonSignedRank(after, before) tests "after is larger": the faster side goes second for TTFT.
  const test = higherIsBetter ? wilcoxonSignedRank(pairs.map((p) => p[0]), pairs.map((p) => p[1])) : wilcoxonSignedRank(pairs.map((p) => p[1]), pairs.map((p) => p[0]));
  const medianRatio = quantile(pairs.map(([mine, theirs]) => mine / theirs), 0.5);
  const better = higherIsBetter ? medianRatio > 1 : medianRatio < 1;
  const won = test.p < policy.alpha && better;
  const ratio = `median ${label} ${medianRatio.toFixed(3)}x the current plan's`;
  return {
    ...base,
    won,
    pairs: pairs.length,
    p: test.p,
    medianRatio,
    why: won ? `won: ${ratio}, p=${test.p.toPrecision(3)} < ${policy.alpha} over ${pairs.length} paired cases` : `no significant win: ${ratio}, p=${test.p.toPrecision(3)} over ${pairs.length} paired cases (α=${policy.alpha})`,
  };
}

/**
 * For each backend of the newest run: the current plan (`currentPlans`, else its base launch) and
 * every other plan of it, compared in each of the last `stable` runs that included the backend. A
 * plan that won all of them is promoted; among several, the one with the best median ratio in the
 * newest run.
 */
export function decidePromotions(history: PlanHistory, currentPlans: Readonly<Record<string, string>>, policy: PromotionPolicy): PromotionDecision[] {
  const p: Required<PromotionPolicy> = { alpha: DEFAULT_GATE_POLICY.alpha, minSamples: DEFAULT_GATE_POLICY.minSamples, ...policy };
  if (!Number.isInteger(p.stable) || p.stable < 1) throw new RangeError(`stable must be an integer ≥ 1, got ${p.stable}`);
  const newest = history.runs[0];
  if (!newest) return [];
  const backends = [...new Set(Object.values(newest.plans).map((plan) => plan.backend))].sort();
  const decisions: PromotionDecision[] = [];
  for (const backend of backends) {
    const current = currentPlans[backend] ?? backend;
    const runs = history.runs.filter((run) => Object.values(run.plans).some((plan) => plan.backend === backend)).slice(0, p.stable);
    const candidates = Object.keys(newest.plans).filter((name) => newest.plans[name]!.backend === backend && name !== current).sort();
    const variants = candidates.map((plan): VariantVerdict => {
      const compared = runs.map((run) => compareInRun(run, run.plans[plan], run.plans[current], p));
      return { plan, runs: compared, wins: compared.filter((c) => c.won).length };
    });
    const label = METRIC[p.metric].label;
    const winners = runs.length < p.stable ? [] : variants.filter((v) => v.wins === p.stable);
    const score = (v: VariantVerdict) => (METRIC[p.metric].higherIsBetter ? 1 : -1) * (v.runs[0]?.medianRatio ?? 0);
    const best = winners.sort((a, b) => score(b) - score(a) || (a.plan < b.plan ? -1 : 1))[0];
    let reason: string;
    if (candidates.length === 0) reason = `${backend}: no variant ran; ${current} stays`;
    else if (runs.length < p.stable) reason = `${backend}: only ${runs.length} run(s) in the history, ${p.stable} needed; ${current} stays`;
    else if (best)
      reason = `${backend}: ${best.plan} promoted over ${current}: passed every suite and beat it on ${label} in each of the last ${p.stable} runs (newest: ${best.runs[0]!.why.replace(/^won: /, '')})`;
    else {
      const closest = [...variants].sort((a, b) => b.wins - a.wins)[0]!;
      reason = `${backend}: ${current} stays; no variant won all of the last ${p.stable} runs (best: ${closest.plan}, ${closest.wins} of ${p.stable})`;
    }
    decisions.push({ backend, current, ...(best && { promoted: best.plan }), reason, variants });
  }
  return decisions;
}

/** The variant part of a plan name, or null for a backend's base launch. */
export function variantOfPlan(plan: string): string | null {
  const at = plan.indexOf(VARIANT_SEPARATOR);
  return at > 0 ? plan.slice(at + 1) : null;
}
