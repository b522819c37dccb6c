import type { Sample } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { firstDivergence, showToken } from './tokens.ts';

function difference(a: Sample, b: Sample): string | undefined {
  const calls = (s: Sample) => JSON.stringify(s.toolCalls.map((c) => [c.name, c.arguments]));
  if (calls(a) !== calls(b)) return `tool calls differ: ${calls(b)} vs ${calls(a)}`;
  const index = firstDivergence(a.tokens, b.tokens);
  if (index >= 0) return `tokens part at ${index}: ${showToken(b.tokens[index]!.token)} vs ${showToken(a.tokens[index]!.token)}`;
  if (a.text !== b.text) return `text differs: ${JSON.stringify(b.text.slice(0, 40))} vs ${JSON.stringify(a.text.slice(0, 40))}`;
  if (a.finishReason !== b.finishReason) return `finish_reason ${b.finishReason} vs ${a.finishReason}`;
  return undefined;
}

/**
 * This case must answer exactly like an earlier case of the same suite on the same backend: a
 * streamed request like its non-streamed twin (tool calls lost only when streaming is a real bug).
 */
export const matchesCase: Comparator = {
  kind: 'matches-case',
  needsReference: false,
  referencedCases: (spec) => (typeof spec.case === 'string' ? [spec.case] : []),
  compare({ sample, spec, siblings, testCase }) {
    const other = typeof spec.case === 'string' ? spec.case : undefined;
    if (!other) return { check: 'matches-case', status: 'error', message: `case ${testCase.id}: matches-case needs "case: <earlier case id>"` };
    const twin = siblings?.get(other);
    if (!twin) return { check: 'matches-case', status: 'error', message: `case ${testCase.id}: no sample of "${other}" on this backend; it must be an earlier case of the same suite` };
    if (twin.kind !== 'ok') return { check: 'matches-case', status: 'error', message: `case ${testCase.id}: "${other}" has no answer to compare with (${twin.kind})` };
    const diff = difference(twin, sample);
    return diff
      ? { check: 'matches-case', status: 'fail', measured: 'different', threshold: `same as ${other}`, message: `answer differs from case ${other}: ${diff}` }
      : { check: 'matches-case', status: 'pass', measured: 'identical', threshold: `same as ${other}`, message: `identical to case ${other} (${sample.tokens.length} tokens, ${sample.toolCalls.length} tool calls)` };
  },
};
