// Harmless differences a real peer showed (llama-server, CPU against Vulkan, ANCHORS.md "Verdicts a real
// peer taught"), as must-pass perturbations: conform must not flag them.
import { MASKED_LOGPROB } from '../assertions/prefix-drift.ts';
import { firstDivergence, sameToken } from '../assertions/tokens.ts';
import type { Sample, TokenStep } from '../core/types.ts';
import { clone, hasCheck, requestCase, textIsTokens, withTokens, type FaultDefinition } from './fault.ts';

/** The widest rank-1/rank-2 swap measured between two healthy backends: 0.316 nats apart in golden. */
export const RANK_SWAP_GAP = 0.32;

/** Where the sample still agrees with golden. */
function agreeingEnd(sample: Sample, reference: Sample): number {
  const d = firstDivergence(reference.tokens, sample.tokens);
  return d === -1 ? Math.min(reference.tokens.length, sample.tokens.length) : d;
}

export const rankSwapFlip: FaultDefinition = {
  name: 'rank-swap-flip',
  kind: 'must-pass',
  backend: 'other',
  description: `at the first position where golden's top-2 are 0.05 to ${RANK_SWAP_GAP} nats apart, both move to their midpoint and the runner-up wins by a hair (each logprob moved by half the gap, as two healthy backends' did)`,
  expect: [],
  applies: (c) => hasCheck(c, 'greedy-divergence') && requestCase(c),
  apply(sample, _testCase, { reference }) {
    if (!reference || !textIsTokens(sample) || sample.toolCalls.length > 0 || !sample.tokens.some((t) => t.top.length > 1)) return sample;
    const end = agreeingEnd(sample, reference);
    for (let i = 0; i < end; i++) {
      const [first, second] = reference.tokens[i]!.top;
      if (!first || !second) continue;
      const gap = first.logprob - second.logprob;
      if (gap <= 0.05 || gap > RANK_SWAP_GAP) continue;
      const got = sample.tokens[i]!;
      if (!sameToken(first, got)) continue;
      const mine = got.top.find((t) => sameToken(t, first));
      const runnerUp = got.top.find((t) => sameToken(t, second));
      if (!mine || !runnerUp) continue;
      const mid = (mine.logprob + runnerUp.logprob) / 2;
      const top = got.top
        .map((t) => (sameToken(t, first) ? { ...t, logprob: mid - 0.001 } : sameToken(t, second) ? { ...t, logprob: mid + 0.001 } : t))
        .sort((x, y) => y.logprob - x.logprob);
      const tokens = clone(sample.tokens);
      tokens[i] = { token: runnerUp.token, ...(runnerUp.id !== undefined && { id: runnerUp.id }), logprob: mid + 0.001, top };
      return withTokens(sample, tokens);
    }
    return sample;
  },
};

/** True where a grammar restricted the choice: the server lists masked (−9999) alternatives. */
const constrained = (step: TokenStep) => step.top.some((alt) => alt.logprob <= MASKED_LOGPROB);

export const forcedTokenRawLogprob: FaultDefinition = {
  name: 'forced-token-raw-logprob',
  kind: 'must-pass',
  backend: 'other',
  description: "grammar-constrained tokens reported as llama-server does: the model's raw logprob (−8 to −21 nats) with its own top-k, which lacks the forced token, instead of the renormalized choice",
  expect: [],
  applies: (c) => hasCheck(c, 'greedy-divergence') && requestCase(c),
  apply(sample) {
    if (!sample.tokens.some(constrained)) return sample;
    const tokens = sample.tokens.map((step, i): TokenStep => {
      if (!constrained(step)) return step;
      // The model's own favourites, none of them the token the grammar forced.
      const top = step.top.filter((alt) => !sameToken(alt, step)).slice(0, 5).map((alt, rank) => ({ ...alt, logprob: -1 - rank }));
      return { ...step, logprob: -8 - (i % 14), top };
    });
    return { ...sample, tokens };
  },
};
