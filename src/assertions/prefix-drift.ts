// Logprob drift over the shared greedy prefix of two samples, compared only where the comparison means
// something. A grammar-forced token sits where the model itself would never go (llama-server reports it at
// −8 to −21 nats, far outside any top-k; OpenAI's −9999 sentinel marks a masked one), and a token outside
// either side's top-k is in the tail, where two healthy backends' kernels disagree most. Neither says
// anything about whether the backend computes the model's distribution as golden did, so both are
// excluded and counted, not averaged in (ANCHORS.md, "Verdicts a real peer taught").

import { quantile } from '../core/statistics.ts';
import type { TokenStep } from '../core/types.ts';
import { findInTopK } from './tokens.ts';

/** OpenAI's "impossible token" logprob; anything at or below it was masked, not computed. */
export const MASKED_LOGPROB = -9999;

/** Positions of the shared prefix left out of the drift figures, by why. */
export interface DriftExclusions {
  /** A side gave no logprob for its chosen token. */
  noLogprob: number;
  /** A side's chosen token was forced by a grammar: masked, or less likely than everything its own list shows. */
  forced: number;
  /** The token was outside the top-k of at least one side. */
  outsideTopK: number;
}

/** |Δlogprob| of the chosen token over the compared positions of the shared prefix, as a distribution. */
export interface PrefixDrift {
  /** Positions both sides chose the same token at. */
  shared: number;
  /** Positions compared: shared minus the exclusions. */
  compared: number;
  excluded: DriftExclusions;
  max: number;
  /** Position of the largest |Δlogprob|, or null when nothing was compared. */
  maxIndex: number | null;
  p50: number;
  p99: number;
  /** Σ(a−b)² / Σa² over the compared logprobs, as llama.cpp's test-backend-ops scores a backend's op against the CPU's; 0 when nothing was compared. */
  nmse: number;
}

/**
 * True when a grammar (not the model) chose this token: its logprob is the masked sentinel, or the token is
 * missing from its own non-empty top list while being less likely than the list's last entry. A greedy
 * sampler never picks a token less likely than ones it listed; only a constraint does.
 */
export function isForced(step: TokenStep): boolean {
  if (step.logprob === undefined) return false;
  if (step.logprob <= MASKED_LOGPROB) return true;
  const listed = step.top.filter((alt) => alt.logprob > MASKED_LOGPROB);
  if (listed.length === 0) return false;
  const listedItself = listed.some((alt) => (alt.id !== undefined && step.id !== undefined ? alt.id === step.id : alt.token === step.token));
  return !listedItself && step.logprob < Math.min(...listed.map((alt) => alt.logprob));
}

/** Whether a step's chosen token is among the first k of its own list; a step without a list cannot tell, so it counts as inside. */
function insideOwnTopK(step: TokenStep, k: number): boolean {
  return step.top.length === 0 || findInTopK(step, step, k) !== undefined;
}

/** Drift over positions [0, end) where `a` and `b` chose the same token; see the file comment for what is left out. */
export function prefixDrift(a: TokenStep[], b: TokenStep[], end: number, topK: number): PrefixDrift & { deltas: number[] } {
  const excluded: DriftExclusions = { noLogprob: 0, forced: 0, outsideTopK: 0 };
  const deltas: number[] = [];
  let squares = 0;
  let max = 0;
  let maxIndex: number | null = null;
  for (let i = 0; i < end; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.logprob === undefined || y.logprob === undefined) excluded.noLogprob++;
    else if (isForced(x) || isForced(y)) excluded.forced++;
    // Both chose the same token here, so "inside each other's top-k" is: inside both lists.
    else if (!insideOwnTopK(x, topK) || !insideOwnTopK(y, topK)) excluded.outsideTopK++;
    else {
      const delta = Math.abs(x.logprob - y.logprob);
      deltas.push(delta);
      squares += x.logprob * x.logprob;
      if (maxIndex === null || delta > max) [max, maxIndex] = [delta, i];
    }
  }
  const q = (p: number) => (deltas.length ? quantile(deltas, p) : 0);
  const nmse = squares > 0 ? deltas.reduce((n, d) => n + d * d, 0) / squares : 0;
  return { shared: end, compared: deltas.length, excluded, max, maxIndex, p50: q(0.5), p99: q(0.99), nmse, deltas };
}
