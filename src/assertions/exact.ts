import type { Comparator } from './comparator.ts';
import { firstDivergence, showToken } from './tokens.ts';

/** Token ids and text equal: determinism on the backend the golden was recorded on. */
export const exact: Comparator = {
  kind: 'exact',
  needsReference: true,
  compare({ sample, reference, sameBackendAsReference }) {
    if (!reference) throw new Error('exact needs a reference');
    if (!sameBackendAsReference)
      return {
        check: 'exact',
        status: 'skip',
        message: 'exact applies on the golden backend only; other backends are judged by greedy-divergence',
      };
    const textEqual = sample.text === reference.text;
    const divergence = firstDivergence(reference.tokens, sample.tokens);
    const tokensEqual = divergence === -1 && reference.tokens.length === sample.tokens.length;
    const callsEqual = JSON.stringify(sample.toolCalls.map(({ name, arguments: a }) => [name, a]))
      === JSON.stringify(reference.toolCalls.map(({ name, arguments: a }) => [name, a]));
    if (textEqual && tokensEqual && callsEqual)
      return { check: 'exact', status: 'pass', measured: sample.tokens.length, threshold: 'identical', message: `identical to golden (${sample.tokens.length} tokens)` };
    const where = divergence >= 0
      ? `at token ${divergence}: golden ${showToken(reference.tokens[divergence]!.token)}, got ${showToken(sample.tokens[divergence]!.token)}`
      : !callsEqual ? 'in its tool calls'
      : reference.tokens.length !== sample.tokens.length ? `in length: golden ${reference.tokens.length} tokens, got ${sample.tokens.length}`
      : `in its text: golden ${JSON.stringify(reference.text.slice(0, 40))}, got ${JSON.stringify(sample.text.slice(0, 40))}`;
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
