// How far a backend's next-token distributions are from golden's, in the terms llama.cpp's
// `perplexity --kl-divergence` reports (mean/max KLD, RMS Δp, same top p), estimated from the top-k
// logprobs an OpenAI-compatible server returns instead of the full vocabulary.
//
// Positions compared: every position whose context is still identical on both sides, that is the shared
// greedy prefix plus the first divergence itself (both sides predicted that position from the same tokens,
// and it is where the two distributions matter most). After it, the contexts differ and nothing compares.

import type { CheckSpec, Tolerance, TokenStep, TopLogprob, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { isNearTie } from './greedy-divergence.ts';
import { firstDivergence, sameToken } from './tokens.ts';

const CHECK = 'distribution';

// Measured against the defaults below: conform serve cpu vs vulkan (llvmpipe), the 12 greedy smoke cases of
// reports/20261128T182739Z-357c68 and -b3ce85 against golden/smoke.json: mean KLD ≤ 8.6e-7, max KLD ≤ 3.5e-6,
// RMS Δp ≤ 0.042%, same top 100%: three orders of magnitude inside. llama.cpp b4748 CPU vs Vulkan
// (test/fixtures/llama-server-b4748, top-5): chat-logprobs mean KLD 9.8e-4 but RMS Δp 1.35% (fails);
// chat-logprobs-long (3K-token prompt) 4.0e-3 and 1.96% (fails): drift beyond q8_0, which greedy-divergence
// passes as near-ties.

// Calibrated on a healthy same-precision pair, not on quantization: llama.cpp b4748's CPU and Vulkan
// backends, whose greedy outputs part only at near-ties, measured mean KLD up to 4.0e-3 and RMS Δp up to
// 1.96% (chat-logprobs-long). The gates sit 1.25x above that, and still far below q4_K_M's 0.031 / 5.5%
// in llama.cpp's LLaMA-3-8B table (ANCHORS.md), so a quantization-sized error is caught while the drift
// of two healthy backends is not. The anchor's "near 1e-3" would flag this real healthy pair.
export const DEFAULT_MAX_MEAN_KLD = 5e-3;
export const DEFAULT_MAX_RMS_DELTA_P = 0.025;
// No token counts as less likely than this, listed or not: it bounds one token's log-ratio at ln(p/1e-6) ≤ 13.8
// nats, so a top-k cut, or OpenAI's −9999 "masked" sentinel (the built-in engine lists grammar-masked tokens
// so), cannot make KLD infinite; 1e-6 is below any probability a 5-to-20-entry top list shows in practice.
export const PROBABILITY_FLOOR = 1e-6;

/** Options a case may give the check; every threshold is optional, see the defaults above. */
export interface DistributionOptions {
  /** Largest mean KL(golden‖backend) in nats. @default 5e-3 */
  maxMeanKld: number;
  /** Largest RMS of Δp (probability, not percent) of golden's chosen token. @default 0.025 */
  maxRmsDeltaP: number;
  /** Largest single-position KLD in nats; not checked unless given. */
  maxKld?: number;
  /** Smallest share of positions whose top token agrees; informational unless given. */
  minSameTopRate?: number;
}

export interface PositionDistribution {
  index: number;
  kld: number;
  sameTop: boolean;
  /** p_backend − p_golden of golden's chosen token, raw probabilities (not renormalized). */
  deltaP: number;
}

export interface DistributionStats {
  positions: PositionDistribution[];
  /** Number of positions compared: those of `shared` where both sides gave top logprobs. */
  n: number;
  /** Positions predicted from the same context on both sides: the shared prefix plus the divergence. */
  shared: number;
  meanKld: number;
  maxKld: number;
  maxKldIndex: number | null;
  sameTopRate: number;
  /** √(p(1−p)/(n−1)), as llama.cpp reports beside "same top p"; null for n < 2. */
  sameTopStdErr: number | null;
  rmsDeltaP: number;
  /** Index where the greedy sequences part, or null when one is a prefix of the other. */
  divergenceIndex: number | null;
}

/** A step's alternatives with its own chosen token added when the server left it out of the list. */
function alternativesOf(step: TokenStep): TopLogprob[] {
  const list = step.top.filter((alt) => Number.isFinite(alt.logprob));
  if (step.logprob !== undefined && Number.isFinite(step.logprob) && !list.some((alt) => sameToken(alt, step)))
    list.push({ token: step.token, logprob: step.logprob, ...(step.id !== undefined ? { id: step.id } : {}) });
  return list;
}

/** Token ids identify tokens when every entry on both sides has one; token strings otherwise (as sameToken). */
function keyer(a: TopLogprob[], b: TopLogprob[]): (alt: { token: string; id?: number }) => string {
  const ids = [...a, ...b].every((alt) => alt.id !== undefined);
  return ids ? (alt) => `#${alt.id}` : (alt) => `s${alt.token}`;
}

interface Side {
  probs: Map<string, number>;
  /** Mass the list leaves for everything it does not show. */
  residual: number;
  /** Smallest listed probability: a token outside a true top-k list cannot be more likely than this. */
  smallest: number;
}

function sideOf(list: TopLogprob[], key: (alt: TopLogprob) => string): Side {
  const probs = new Map<string, number>();
  // A repeated entry counts once, at its best logprob.
  for (const alt of list) {
    const k = key(alt);
    const p = Math.exp(alt.logprob);
    const seen = probs.get(k);
    if (seen === undefined || p > seen) probs.set(k, p);
  }
  let mass = 0;
  let smallest = Infinity;
  for (const p of probs.values()) {
    mass += p;
    smallest = Math.min(smallest, p);
  }
  return { probs, residual: Math.max(0, 1 - mass), smallest };
}

/**
 * Probabilities of one side over the union of both lists, before renormalization. Tokens the side does
 * not list share its residual mass uniformly, each capped at the side's smallest listed probability (it
 * was not in the top-k, so it is less likely than anything that was); every value is floored at
 * PROBABILITY_FLOOR.
 */
function overUnion(side: Side, union: string[]): number[] {
  const missing = union.filter((k) => !side.probs.has(k)).length;
  const filler = missing === 0 ? 0 : Math.min(side.residual / missing, side.smallest);
  return union.map((k) => Math.max(PROBABILITY_FLOOR, side.probs.get(k) ?? filler));
}

function normalize(values: number[]): number[] {
  const total = values.reduce((s, v) => s + v, 0);
  return values.map((v) => v / total);
}

/**
 * Both top-k lists as distributions over the union of their tokens: missing tokens filled as in `overUnion`,
 * then each side renormalized to sum to 1. `keys` are ids (`#12`) or strings (`s…`), as `sameToken` decides.
 */
export function unionDistributions(golden: TopLogprob[], backend: TopLogprob[]): { keys: string[]; p: number[]; q: number[] } {
  if (golden.length === 0 || backend.length === 0) throw new RangeError('a distribution needs a non-empty top list on both sides');
  const key = keyer(golden, backend);
  const g = sideOf(golden, key);
  const b = sideOf(backend, key);
  const keys = [...new Set([...g.probs.keys(), ...b.probs.keys()])];
  return { keys, p: normalize(overUnion(g, keys)), q: normalize(overUnion(b, keys)) };
}

/**
 * KL(golden‖backend) in nats, estimated from two top-k lists through `unionDistributions`. It is the
 * divergence of the two top-k conditional distributions, so ≥ 0, and 0 exactly when they are identical
 * over the union; a shift of mass into the unlisted tail alone is invisible to it (RMS Δp, on raw
 * probabilities, still sees it).
 */
export function topKKld(golden: TopLogprob[], backend: TopLogprob[]): number {
  const { p, q } = unionDistributions(golden, backend);
  let kld = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) kld += p[i]! * Math.log(p[i]! / q[i]!);
  // Rounding can leave a hair below zero for identical distributions; KL itself never is.
  return Math.max(0, kld);
}

/** The most likely entry of a list; the first of equals. */
function topOf(list: TopLogprob[]): TopLogprob {
  return list.reduce((best, alt) => (alt.logprob > best.logprob ? alt : best));
}

/** Raw probability a side gives `token`: listed, else the filler it would get as a missing token. */
function probabilityOf(list: TopLogprob[], token: TokenStep): number {
  const listed = list.filter((alt) => sameToken(alt, token));
  if (listed.length > 0) return Math.exp(Math.max(...listed.map((alt) => alt.logprob)));
  const side = sideOf(list, keyer(list, list));
  return Math.max(PROBABILITY_FLOOR, Math.min(side.residual, side.smallest));
}

/** Per-position and summary figures over the positions both sides predicted from the same context. */
export function distributionStats(golden: TokenStep[], backend: TokenStep[]): DistributionStats {
  const divergence = firstDivergence(golden, backend);
  const end = divergence === -1 ? Math.min(golden.length, backend.length) : divergence + 1;
  const positions: PositionDistribution[] = [];
  for (let i = 0; i < end; i++) {
    // Only the alternatives make a distribution: a chosen token's logprob alone (top_logprobs 0) does not count.
    if (golden[i]!.top.length === 0 || backend[i]!.top.length === 0) continue;
    const g = alternativesOf(golden[i]!);
    const b = alternativesOf(backend[i]!);
    if (g.length === 0 || b.length === 0) continue;
    const chosen = golden[i]!;
    positions.push({
      index: i,
      kld: topKKld(g, b),
      sameTop: sameToken(topOf(g), topOf(b)),
      deltaP: probabilityOf(b, chosen) - probabilityOf(g, chosen),
    });
  }
  return { ...summarize(positions), shared: end, divergenceIndex: divergence === -1 ? null : divergence };
}

/** Mean and max KLD, same-top rate and RMS Δp over a set of compared positions. */
function summarize(positions: PositionDistribution[]): Omit<DistributionStats, 'shared' | 'divergenceIndex'> {
  const n = positions.length;
  let sumKld = 0;
  let maxKld = 0;
  let maxKldIndex: number | null = null;
  let same = 0;
  let sumSq = 0;
  for (const pos of positions) {
    sumKld += pos.kld;
    if (maxKldIndex === null || pos.kld > maxKld) [maxKld, maxKldIndex] = [pos.kld, pos.index];
    if (pos.sameTop) same++;
    sumSq += pos.deltaP * pos.deltaP;
  }
  const sameTopRate = n === 0 ? 1 : same / n;
  return {
    positions,
    n,
    meanKld: n === 0 ? 0 : sumKld / n,
    maxKld,
    maxKldIndex,
    sameTopRate,
    sameTopStdErr: n < 2 ? null : Math.sqrt((sameTopRate * (1 - sameTopRate)) / (n - 1)),
    rmsDeltaP: n === 0 ? 0 : Math.sqrt(sumSq / n),
  };
}

/**
 * The check's options: the defaults, then the backend's tolerance (its class's distribution limits, with backend
 * and case overrides, as resolveTolerance merged them), then the check's own options; or a message naming the bad one.
 */
export function distributionOptions(spec: CheckSpec, tolerance?: Pick<Tolerance, 'distribution'>): DistributionOptions | string {
  const options: DistributionOptions = { maxMeanKld: DEFAULT_MAX_MEAN_KLD, maxRmsDeltaP: DEFAULT_MAX_RMS_DELTA_P };
  const sources: Array<[string, Partial<Record<keyof DistributionOptions, unknown>>]> = [
    ['tolerance distribution.', tolerance?.distribution ?? {}],
    ['option ', spec as Partial<Record<keyof DistributionOptions, unknown>>],
  ];
  for (const [where, given] of sources)
    for (const name of ['maxMeanKld', 'maxRmsDeltaP', 'maxKld', 'minSameTopRate'] as const) {
      const value = given[name];
      if (value === undefined) continue;
      const max = name === 'minSameTopRate' ? 1 : Infinity;
      if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > max)
        return `${CHECK} ${where}${name} must be a number ${max === 1 ? 'in [0, 1]' : '≥ 0'}, got ${JSON.stringify(value)}`;
      options[name] = value;
    }
  return options;
}

const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)}%`;

/**
 * Next-token distributions over the shared greedy prefix: mean KLD and RMS Δp gate, max KLD and same-top
 * rate are reported (and gate only when the case sets them). Needs logprobs with top_logprobs on both sides.
 */
export const distribution: Comparator = {
  kind: CHECK,
  needsReference: true,
  needsSamePrompt: true,
  compare({ sample, reference, spec, tolerance }): Verdict {
    if (!reference) throw new Error(`${CHECK} needs a reference`);
    const options = distributionOptions(spec, tolerance);
    if (typeof options === 'string') return { check: CHECK, status: 'error', message: options };
    const stats = distributionStats(reference.tokens, sample.tokens);
    const details: Record<string, unknown> = { ...stats, thresholds: options };
    // A healthy near-tie flip moves golden's token by up to Δp 0.084 at the divergence (a 0.316-nat gap, both
    // sides moved half-way, as llama-server CPU and Vulkan did): over a short prefix that one position alone
    // would decide the gates. greedy-divergence judges the flip; the gates judge what came before it.
    const nearTie = stats.divergenceIndex !== null && isNearTie(reference, sample, stats.divergenceIndex, tolerance);

    if (stats.n < 2 && nearTie && stats.n === stats.shared)
      return {
        check: CHECK,
        status: 'skip',
        measured: stats.n,
        threshold: '≥ 2 positions with top logprobs',
        message: `the sequences part at token ${stats.divergenceIndex} in a near-tie, too early to estimate a distribution (greedy-divergence judges the flip)`,
        details,
      };
    if (stats.n < 2) {
      const equal = reference.text === sample.text;
      const noLogprobs = reference.tokens.length === 0 || sample.tokens.length === 0 || stats.n < stats.shared;
      const why = noLogprobs
        ? 'logprobs are needed: request logprobs: true with top_logprobs ≥ 2 on both golden and backend'
        : stats.divergenceIndex !== null
          ? `the sequences part at token ${stats.divergenceIndex}, too early to estimate a distribution (greedy-divergence judges the flip)`
          : `one side stopped after ${stats.shared} token(s), too few to estimate a distribution`;
      return {
        check: CHECK,
        status: equal ? 'pass' : 'fail',
        measured: stats.n,
        threshold: '≥ 2 positions with top logprobs, or identical text',
        message: equal
          ? `text identical to golden; only ${stats.n} position(s) with top logprobs, too few for a distribution`
          : `text differs from golden with only ${stats.n} shared position(s) with top logprobs; ${why}`,
        details,
      };
    }

    const figures = `mean KLD ${stats.meanKld.toExponential(2)}, max ${stats.maxKld.toExponential(2)} at token ${stats.maxKldIndex}, RMS Δp ${pct(stats.rmsDeltaP)}, same top ${pct(stats.sameTopRate, 1)} ± ${pct(stats.sameTopStdErr ?? 0, 1)} over ${stats.n} positions`;
    const failures: Array<{ measured: number; threshold: number; what: string }> = [];
    if (stats.meanKld > options.maxMeanKld)
      failures.push({ measured: stats.meanKld, threshold: options.maxMeanKld, what: `mean KLD ${stats.meanKld.toExponential(2)} > ${options.maxMeanKld}` });
    if (stats.rmsDeltaP > options.maxRmsDeltaP)
      failures.push({ measured: stats.rmsDeltaP, threshold: options.maxRmsDeltaP, what: `RMS Δp ${pct(stats.rmsDeltaP)} > ${pct(options.maxRmsDeltaP)}` });
    if (options.maxKld !== undefined && stats.maxKld > options.maxKld)
      failures.push({ measured: stats.maxKld, threshold: options.maxKld, what: `max KLD ${stats.maxKld.toExponential(2)} at token ${stats.maxKldIndex} > ${options.maxKld}` });
    if (options.minSameTopRate !== undefined && stats.sameTopRate < options.minSameTopRate)
      failures.push({ measured: stats.sameTopRate, threshold: options.minSameTopRate, what: `same top ${pct(stats.sameTopRate, 1)} < ${pct(options.minSameTopRate, 1)}` });

    const first = failures[0];
    if (first && nearTie) {
      const before = summarize(stats.positions.filter((pos) => pos.index !== stats.divergenceIndex));
      if (before.n > 0 && before.meanKld <= options.maxMeanKld && before.rmsDeltaP <= options.maxRmsDeltaP && (options.maxKld === undefined || before.maxKld <= options.maxKld) && (options.minSameTopRate === undefined || before.sameTopRate >= options.minSameTopRate))
        return {
          check: CHECK,
          status: 'pass',
          measured: before.meanKld,
          threshold: options.maxMeanKld,
          message: `distributions close to golden before the near-tie flip at token ${stats.divergenceIndex} (mean KLD ${before.meanKld.toExponential(2)}, RMS Δp ${pct(before.rmsDeltaP)} over ${before.n} positions); with the flip counted: ${figures}, which greedy-divergence judges`,
          details: { ...details, beforeDivergence: { n: before.n, meanKld: before.meanKld, maxKld: before.maxKld, rmsDeltaP: before.rmsDeltaP, sameTopRate: before.sameTopRate } },
        };
    }
    if (first)
      return {
        check: CHECK,
        status: 'fail',
        measured: first.measured,
        threshold: first.threshold,
        message: `${failures.map((f) => f.what).join('; ')}: the backend's next-token distributions drift from golden (${figures})`,
        details,
      };
    return {
      check: CHECK,
      status: 'pass',
      measured: stats.meanKld,
      threshold: options.maxMeanKld,
      message: `distributions close to golden: ${figures}`,
      details,
    };
  },
};
