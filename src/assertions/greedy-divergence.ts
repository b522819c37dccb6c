import type { Sample, Tolerance, TokenStep, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { prefixDrift, type PrefixDrift } from './prefix-drift.ts';
import { findInTopK, firstDivergence, showToken } from './tokens.ts';

const CHECK = 'greedy-divergence';

/** The drift figures a verdict carries in `details`, without the per-position list. */
function driftDetails(drift: PrefixDrift & { deltas?: number[] }, tolerance: Tolerance): Record<string, unknown> {
  const { deltas: _deltas, ...figures } = drift;
  return { prefixLogprobDelta: drift.max, prefixDrift: { ...figures, threshold: tolerance.prefixLogprobDelta } };
}

/** "max 0.031 at token 4, p99 0.030 over 20 of 24 shared positions (3 grammar-forced, 1 outside the top-5 left out)". */
function describeDrift(drift: PrefixDrift, topK: number): string {
  const left = [drift.excluded.forced && `${drift.excluded.forced} grammar-forced`, drift.excluded.outsideTopK && `${drift.excluded.outsideTopK} outside the top-${topK}`, drift.excluded.noLogprob && `${drift.excluded.noLogprob} without logprobs`].filter(Boolean);
  const where = drift.maxIndex === null ? '' : ` at token ${drift.maxIndex}`;
  return `max ${drift.max.toFixed(3)}${where}, p99 ${drift.p99.toFixed(3)} over ${drift.compared} of ${drift.shared} shared positions${left.length ? ` (${left.join(', ')} left out)` : ''}`;
}

/** A chosen token's logprob, or its list's best when the server gave no logprob of the token itself. */
const chosenLogprob = (step: TokenStep) => step.logprob ?? step.top[0]?.logprob ?? 0;

/** True when the greedy sequences part at `index` in a near-tie: each side's token in the other's top-k, both gaps within the allowance. */
export function isNearTie(reference: Sample, sample: Sample, index: number, tolerance: Tolerance): boolean {
  const refStep = reference.tokens[index];
  const gotStep = sample.tokens[index];
  if (!refStep || !gotStep) return false;
  const gotInRef = findInTopK(refStep, gotStep, tolerance.topK);
  const refInGot = findInTopK(gotStep, refStep, tolerance.topK);
  if (!gotInRef || !refInGot) return false;
  return Math.max(chosenLogprob(refStep) - gotInRef.logprob, chosenLogprob(gotStep) - refInGot.logprob) <= tolerance.divergenceLogprobGap;
}

function judgeDivergence(reference: Sample, sample: Sample, index: number, tolerance: Tolerance): Verdict {
  const refStep = reference.tokens[index]!;
  const gotStep = sample.tokens[index]!;
  const where = `token ${index}: golden ${showToken(refStep.token)}, got ${showToken(gotStep.token)}`;
  // vLLM's check_logprobs_close: each side must have seen the other's choice among its top-k, or the flip was confident.
  const gotInRef = findInTopK(refStep, gotStep, tolerance.topK);
  const refInGot = findInTopK(gotStep, refStep, tolerance.topK);
  const details = { divergenceIndex: index, golden: refStep, got: gotStep, topK: tolerance.topK };
  if (!gotInRef || !refInGot) {
    const missing = !gotInRef ? `golden's top-${tolerance.topK} lacks ${showToken(gotStep.token)}` : `backend's top-${tolerance.topK} lacks ${showToken(refStep.token)}`;
    return { check: CHECK, status: 'fail', measured: index, threshold: `mutual top-${tolerance.topK}`, message: `confident flip at ${where}; ${missing}`, details };
  }
  // How much more likely each side found its own choice than the other's. If every logprob may move by δ between
  // healthy backends, a flip needs golden's gap + the backend's gap ≤ 2δ, so each gap stays within 2δ.
  const refGap = chosenLogprob(refStep) - gotInRef.logprob;
  const gotGap = chosenLogprob(gotStep) - refInGot.logprob;
  const gap = Math.max(refGap, gotGap);
  const ok = gap <= tolerance.divergenceLogprobGap;
  return {
    check: CHECK,
    status: ok ? 'pass' : 'fail',
    measured: index,
    threshold: `gap ≤ ${tolerance.divergenceLogprobGap} nats`,
    message: `${ok ? 'near-tie' : 'confident'} flip at ${where}; logprob gap ${gap.toFixed(3)} ${ok ? '≤' : '>'} ${tolerance.divergenceLogprobGap} nats, both in top-${tolerance.topK}`,
    details: { ...details, gap, goldenGap: refGap, backendGap: gotGap },
  };
}

/**
 * The main cross-backend check, with vLLM's check_logprobs_close as its spine: walk both greedy sequences,
 * and at the first divergence require mutual top-k membership and a near-tie. Unlike vLLM it also bounds the
 * chosen token's logprob drift over the shared prefix, but only where the comparison means something: both
 * sides' token inside their top-k and not forced by a grammar (prefix-drift.ts); the drift is reported as
 * max and p99 with what was left out.
 */
export const greedyDivergence: Comparator = {
  kind: CHECK,
  needsReference: true,
  needsSamePrompt: true,
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
    const drift = prefixDrift(reference.tokens, sample.tokens, sharedEnd, tolerance.topK);
    const figures = driftDetails(drift, tolerance);
    if (drift.max > tolerance.prefixLogprobDelta)
      return {
        check: CHECK,
        status: 'fail',
        measured: drift.max,
        threshold: tolerance.prefixLogprobDelta,
        message: `logprobs drift over the shared prefix: ${describeDrift(drift, tolerance.topK)}, above ${tolerance.prefixLogprobDelta} nats`,
        details: { divergenceIndex: index, ...figures },
      };
    if (index >= 0) {
      const verdict = judgeDivergence(reference, sample, index, tolerance);
      return { ...verdict, details: { ...verdict.details, ...figures } };
    }
    if (reference.tokens.length !== sample.tokens.length) {
      const shorter = reference.tokens.length < sample.tokens.length ? 'golden' : 'backend';
      return {
        check: CHECK,
        status: 'fail',
        measured: sharedEnd,
        threshold: 'equal length',
        message: `agrees for ${sharedEnd} tokens, then the ${shorter} stopped (golden ${reference.tokens.length}, got ${sample.tokens.length} tokens)`,
        details: { divergenceIndex: sharedEnd, ...figures },
      };
    }
    return {
      check: CHECK,
      status: 'pass',
      measured: null,
      threshold: `max |Δlogprob| ≤ ${tolerance.prefixLogprobDelta}`,
      message: `no divergence over ${sharedEnd} tokens; |Δlogprob| ${describeDrift(drift, tolerance.topK)}`,
      details: { divergenceIndex: null, ...figures },
    };
  },
};
