import type { Sample, Tolerance, TokenStep, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { findInTopK, firstDivergence, showToken } from './tokens.ts';

const CHECK = 'greedy-divergence';

/** Largest |Δlogprob| of the chosen token over positions both sides agree on. */
export function prefixLogprobDelta(a: TokenStep[], b: TokenStep[], end: number): number {
  let worst = 0;
  for (let i = 0; i < end; i++) {
    const x = a[i]!.logprob;
    const y = b[i]!.logprob;
    if (x !== undefined && y !== undefined) worst = Math.max(worst, Math.abs(x - y));
  }
  return worst;
}

function judgeDivergence(reference: Sample, sample: Sample, index: number, tolerance: Tolerance): Verdict {
  const refStep = reference.tokens[index]!;
  const gotStep = sample.tokens[index]!;
  const where = `token ${index}: golden ${showToken(refStep.token)}, got ${showToken(gotStep.token)}`;
  // Each side must have seen the other's choice as a strong alternative, or the flip was confident.
  const gotInRef = findInTopK(refStep, gotStep, tolerance.topK);
  const refInGot = findInTopK(gotStep, refStep, tolerance.topK);
  const details = { divergenceIndex: index, golden: refStep, got: gotStep, topK: tolerance.topK };
  if (!gotInRef || !refInGot) {
    const missing = !gotInRef ? `golden's top-${tolerance.topK} lacks ${showToken(gotStep.token)}` : `backend's top-${tolerance.topK} lacks ${showToken(refStep.token)}`;
    return { check: CHECK, status: 'fail', measured: index, threshold: `mutual top-${tolerance.topK}`, message: `confident flip at ${where}; ${missing}`, details };
  }
  const refGap = (refStep.logprob ?? refStep.top[0]!.logprob) - gotInRef.logprob;
  const gotGap = (gotStep.logprob ?? gotStep.top[0]!.logprob) - refInGot.logprob;
  const gap = Math.max(refGap, gotGap);
  const ok = gap <= tolerance.divergenceLogprobGap;
  return {
    check: CHECK,
    status: ok ? 'pass' : 'fail',
    measured: index,
    threshold: `gap ≤ ${tolerance.divergenceLogprobGap} nats`,
    message: `${ok ? 'near-tie' : 'confident'} flip at ${where}; logprob gap ${gap.toFixed(3)} ${ok ? '≤' : '>'} ${tolerance.divergenceLogprobGap} nats, both in top-${tolerance.topK}`,
    details: { ...details, gap },
  };
}

/**
 * The main cross-backend check: walk both greedy sequences, and at the first divergence require
 * mutual top-k membership and a near-tie. Unlike vLLM's check_logprobs_close it also bounds the
 * logprob drift over the shared prefix, so a backend cannot agree on tokens while drifting badly.
 */
export const greedyDivergence: Comparator = {
  kind: CHECK,
  needsReference: true,
  compare({ sample, reference, tolerance }) {
    if (!reference) throw new Error(`${CHECK} needs a reference`);
    if (reference.tokens.length === 0 || sample.tokens.length === 0) {
      const equal = reference.text === sample.text;
      return {
        check: CHECK,
        status: equal ? 'pass' : 'fail',
        measured: null,
        threshold: 'identical text (no logprobs to judge a divergence)',
        message: equal ? 'text identical to golden; no logprobs were returned' : 'text differs from golden and no logprobs were returned to judge the divergence; request logprobs',
      };
    }
    const index = firstDivergence(reference.tokens, sample.tokens);
    const sharedEnd = index === -1 ? Math.min(reference.tokens.length, sample.tokens.length) : index;
    const drift = prefixLogprobDelta(reference.tokens, sample.tokens, sharedEnd);
    if (drift > tolerance.prefixLogprobDelta)
      return {
        check: CHECK,
        status: 'fail',
        measured: drift,
        threshold: tolerance.prefixLogprobDelta,
        message: `logprobs drift by ${drift.toFixed(3)} nats over the ${sharedEnd} shared tokens, above ${tolerance.prefixLogprobDelta}`,
        details: { divergenceIndex: index, prefixLogprobDelta: drift },
      };
    if (index >= 0) {
      const verdict = judgeDivergence(reference, sample, index, tolerance);
      return { ...verdict, details: { ...verdict.details, prefixLogprobDelta: drift } };
    }
    if (reference.tokens.length !== sample.tokens.length) {
      const shorter = reference.tokens.length < sample.tokens.length ? 'golden' : 'backend';
      return {
        check: CHECK,
        status: 'fail',
        measured: sharedEnd,
        threshold: 'equal length',
        message: `agrees for ${sharedEnd} tokens, then the ${shorter} stopped (golden ${reference.tokens.length}, got ${sample.tokens.length} tokens)`,
        details: { divergenceIndex: sharedEnd, prefixLogprobDelta: drift },
      };
    }
    return {
      check: CHECK,
      status: 'pass',
      measured: null,
      threshold: `max |Δlogprob| ≤ ${tolerance.prefixLogprobDelta}`,
      message: `no divergence over ${sharedEnd} tokens; max |Δlogprob| ${drift.toFixed(4)}`,
      details: { divergenceIndex: null, prefixLogprobDelta: drift },
    };
  },
};
