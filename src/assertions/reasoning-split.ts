import type { Sample, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { firstDivergence, showToken } from './tokens.ts';

const CHECK = 'reasoning-split';

const reasoningOf = (s: Sample) => s.reasoning ?? '';

/** True when both token lists are present and identical: then text and reasoning must be identical too. */
function sameTokens(a: Sample, b: Sample): boolean {
  return a.tokens.length > 0 && a.tokens.length === b.tokens.length && firstDivergence(a.tokens, b.tokens) === -1;
}

/**
 * What went to reasoning_content and what to content must be split as in golden. greedy-divergence and exact
 * compare tokens, which a server can keep while moving the first of them into reasoning_content; a client
 * that shows only content then loses them. With the same tokens the split must be identical; with other
 * tokens, reasoning must be present on both sides or on neither.
 */
export const reasoningSplit: Comparator = {
  kind: CHECK,
  needsReference: true,
  needsSamePrompt: true,
  compare({ sample, reference }): Verdict {
    if (!reference) throw new Error(`${CHECK} needs a reference`);
    const [mine, golden] = [reasoningOf(sample), reasoningOf(reference)];
    const details = { goldenReasoningChars: golden.length, reasoningChars: mine.length, goldenContentChars: reference.text.length, contentChars: sample.text.length };
    const shown = (s: Sample) => `reasoning ${showToken(reasoningOf(s).slice(0, 30))}, content ${showToken(s.text.slice(0, 30))}`;
    if (sameTokens(sample, reference)) {
      if (mine === golden && sample.text === reference.text)
        return { check: CHECK, status: 'pass', measured: mine.length, threshold: golden.length, message: `same tokens and the same split as golden (${golden.length} characters of reasoning)`, details };
      return {
        check: CHECK,
        status: 'fail',
        measured: mine.length,
        threshold: golden.length,
        message: `same ${sample.tokens.length} tokens as golden, split differently: golden ${shown(reference)}; backend ${shown(sample)}`,
        details,
      };
    }
    if ((mine === '') !== (golden === ''))
      return {
        check: CHECK,
        status: 'fail',
        measured: mine.length,
        threshold: golden.length,
        message: golden === '' ? `golden answered in content only; the backend put ${mine.length} characters into reasoning_content (${shown(sample)})` : `golden reasoned (${golden.length} characters); the backend sent no reasoning_content (${shown(sample)})`,
        details,
      };
    return { check: CHECK, status: 'pass', measured: mine.length, threshold: golden.length, message: mine === '' ? 'no reasoning on either side' : 'reasoning on both sides (their tokens differ, so the texts are not compared)', details };
  },
};
