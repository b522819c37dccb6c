// Small, dependency-free statistics for latency decisions: tests over repeats, never a single sample.

/** Complementary error function; Numerical Recipes' Chebyshev fit, fractional error below 1.2e-7 everywhere. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export const normalUpperTail = (z: number): number => (z === Infinity ? 0 : z === -Infinity ? 1 : 0.5 * erfc(z / Math.SQRT2));

export interface MannWhitneyResult {
  /** U of the first sample: the number of (x, y) pairs with x > y, ties counting one half. */
  u: number;
  /** Standardized U, with continuity correction. */
  z: number;
  /** One-sided p-value for "x tends to be larger than y". */
  p: number;
}

/**
 * One-sided Mann–Whitney U test that x is stochastically greater than y, by the normal
 * approximation with tie correction and continuity correction (as scipy's
 * `mannwhitneyu(x, y, alternative='greater', method='asymptotic')`):
 *
 *   U = R_x − n_x(n_x+1)/2, with R_x the sum of x's mid-ranks in the pooled sample
 *   σ² = n_x n_y / 12 · ((N+1) − Σ(t³−t) / (N(N−1))), t running over tie group sizes
 *   z = (U − n_x n_y / 2 − ½) / σ,  p = P(Z > z)
 *
 * With no spread at all (σ = 0) nothing can be told apart: p = 1.
 */
export function mannWhitneyU(x: number[], y: number[]): MannWhitneyResult {
  const nx = x.length;
  const ny = y.length;
  if (nx === 0 || ny === 0) throw new RangeError('mannWhitneyU needs at least one value on each side');
  const pooled = [...x.map((value) => ({ value, fromX: true })), ...y.map((value) => ({ value, fromX: false }))].sort((a, b) => a.value - b.value);
  const n = pooled.length;
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && pooled[j + 1]!.value === pooled[i]!.value) j++;
    const t = j - i + 1;
    const midRank = (i + 1 + j + 1) / 2;
    for (let k = i; k <= j; k++) if (pooled[k]!.fromX) rankSumX += midRank;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u = rankSumX - (nx * (nx + 1)) / 2;
  const mean = (nx * ny) / 2;
  const variance = ((nx * ny) / 12) * (n + 1 - (n > 1 ? tieTerm / (n * (n - 1)) : 0));
  if (!(variance > 0)) return { u, z: 0, p: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, z, p: normalUpperTail(z) };
}

/**
 * The largest value, or -Infinity for none, as Math.max gives; NaN wins, as there. A loop, not
 * Math.max(...values): a spread passes every value as an argument, and past about 120,000 of them
 * (a run's per-token figures, a big run's TTFTs) Node throws "Maximum call stack size exceeded".
 */
export function maxOf(values: readonly number[]): number {
  let most = -Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) return NaN;
    // As Math.max: +0 is larger than -0.
    if (v > most || (v === 0 && Object.is(most, -0))) most = v;
  }
  return most;
}

/** The smallest value, or Infinity for none, as Math.min gives; NaN wins. A loop, for the reason maxOf gives. */
export function minOf(values: readonly number[]): number {
  let least = Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) return NaN;
    if (v < least || (v === 0 && least === 0 && Object.is(v, -0))) least = v;
  }
  return least;
}

/** Linear interpolation between closest ranks (numpy's default), q in [0, 1]. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

// ---------------------------------------------------------------------------------------------
// Policy

/**
 * One-sided Wilcoxon signed-rank test that `after` is later than `before`, pair by pair, on log
 * ratios (normal approximation with tie and continuity corrections). Pairing removes the spread
 * between cases: a uniform 2x slowdown of 12 cases whose TTFTs span 4 ms to 10 s gave p = 0.13 with
 * the pooled Mann-Whitney test and gives p ≈ 0.001 here.
 */
export function wilcoxonSignedRank(after: number[], before: number[]): { w: number; z: number; p: number; n: number } {
  const d = after.map((a, i) => Math.log(a / before[i]!)).filter((x) => Number.isFinite(x) && x !== 0);
  const n = d.length;
  if (n === 0) return { w: 0, z: 0, p: 1, n: 0 };
  const order = d.map((value, index) => ({ abs: Math.abs(value), index })).sort((a, b) => a.abs - b.abs);
  const ranks = new Array<number>(n);
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && order[j + 1]!.abs === order[i]!.abs) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]!.index] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const w = d.reduce((sum, value, i) => (value > 0 ? sum + ranks[i]! : sum), 0);
  const mean = (n * (n + 1)) / 4;
  const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
  const z = sd > 0 ? (w - mean - 0.5) / sd : 0;
  return { w, z, p: 0.5 * erfc(z / Math.SQRT2), n };
}
