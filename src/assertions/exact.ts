import type { Comparator } from './comparator.ts';
import { firstDivergence, showToken } from './tokens.ts';

/**
 * Token ids and text equal: determinism on the backend the golden was recorded on. Tokens are compared when
 * both sides have them; a golden recorded without logprobs is compared by text (and tool calls) alone.
 */
export const exact: Comparator = {
  kind: 'exact',
  needsReference: true,
  needsSamePrompt: true,
  compare({ sample, reference, sameBackendAsReference }) {
    if (!reference) throw new Error('exact needs a reference');
    if (!sameBackendAsReference)
      return {
        check: 'exact',
        status: 'skip',
        message: 'exact applies on the golden backend only; other backends are judged by greedy-divergence',
      };
    const textEqual = sample.text === reference.text && (sample.reasoning ?? '') === (reference.reasoning ?? '');
    const bothHaveTokens = reference.tokens.length > 0 && sample.tokens.length > 0;
    const divergence = bothHaveTokens ? firstDivergence(reference.tokens, sample.tokens) : -1;
    const tokensEqual = !bothHaveTokens || (divergence === -1 && reference.tokens.length === sample.tokens.length);
    const callsEqual = JSON.stringify(sample.toolCalls.map(({ name, arguments: a }) => [name, a]))
      === JSON.stringify(reference.toolCalls.map(({ name, arguments: a }) => [name, a]));
    if (textEqual && tokensEqual && callsEqual)
      return { check: 'exact', status: 'pass', measured: sample.tokens.length, threshold: 'identical', message: bothHaveTokens ? `identical to golden (${sample.tokens.length} tokens)` : `text identical to golden (${sample.text.length} characters; ${reference.tokens.length ? 'the backend' : 'golden'} has no token list to compare)` };
    const where = divergence >= 0
      ? `at token ${divergence}: golden ${showToken(reference.tokens[divergence]!.token)}, got ${showToken(sample.tokens[divergence]!.token)}`
      : !callsEqual ? 'in its tool calls'
      : !tokensEqual ? `in length: golden ${reference.tokens.length} tokens, got ${sample.tokens.length}`
      : sample.text !== reference.text ? `in its text: golden ${JSON.stringify(reference.text.slice(0, 40))}, got ${JSON.stringify(sample.text.slice(0, 40))}`
      : `in its reasoning: golden ${JSON.stringify((reference.reasoning ?? '').slice(0, 40))}, got ${JSON.stringify((sample.reasoning ?? '').slice(0, 40))}`;
    return {
      check: 'exact',
      status: 'fail',
      measured: divergence,
      threshold: 'identical',
      message: `differs from golden on its own backend ${where}: the backend is not deterministic`,
      details: { divergenceIndex: divergence },
    };
  },
};
