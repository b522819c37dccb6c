import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES, maxTokens } from '../../src/assertions/max-tokens.ts';
import type { Sample } from '../../src/core/types.ts';
import { chatCase, input, sample, step, tokenSample } from './samples.ts';

const judge = (s: Sample, max?: number) => maxTokens.compare(input({ sample: s, testCase: chatCase({ params: { max_tokens: max, temperature: 0 } }), spec: { kind: 'max-tokens' } }));
const usage = (completionTokens: number) => ({ promptTokens: 10, completionTokens });

describe('max-tokens', () => {
  it.each<[string, Sample, number, 'pass' | 'fail']>([
    ['usage at the limit', sample({ text: 'abc', usage: usage(8) }), 8, 'pass'],
    ['usage over the limit', sample({ text: 'abc', usage: usage(9) }), 8, 'fail'],
    ['logprob tokens over the limit, usage honest-looking', tokenSample(Array.from({ length: 9 }, () => step('a', -0.1)), { usage: usage(8) }), 8, 'fail'],
    ['a repeat variant over the limit', sample({ usage: usage(4), variants: [{ text: 'a', tokenIds: [1], count: 1 }, { text: 'b', tokenIds: Array.from({ length: 12 }, (_, i) => i), count: 1 }] }), 8, 'fail'],
    ['no counts, text that fits', sample({ text: 'x'.repeat(8 * MAX_TOKEN_BYTES) }), 8, 'pass'],
    ['no counts, 100 MB-scale text for max_tokens 8', sample({ text: 'x'.repeat(8 * MAX_TOKEN_BYTES + 1) }), 8, 'fail'],
    ['no counts, tool-call arguments too long', sample({ toolCalls: [{ index: 0, id: 'c', name: 'f', arguments: 'y'.repeat(2 * MAX_TOKEN_BYTES + 1) }] }), 2, 'fail'],
  ])('%s → %s', (_, s, max, expected) => {
    const v = judge(s, max);
    expect(v.status).toBe(expected);
    if (expected === 'fail') expect(v.message).toContain(`max_tokens ${max}`);
  });

  it('names the count and where it came from', () => {
    const v = judge(sample({ usage: usage(20) }), 8);
    expect(v).toMatchObject({ status: 'fail', measured: 20, threshold: 8 });
    expect(v.message).toBe('20 completion tokens (usage.completion_tokens) for max_tokens 8: the server ignored the limit');
  });

  it('skips a case without max_tokens', () => {
    expect(judge(sample({ usage: usage(1000) })).status).toBe('skip');
  });

  it('monotone: a larger max_tokens never turns a pass into a fail', () => {
    fc.assert(
      fc.property(fc.nat({ max: 64 }), fc.nat({ max: 64 }), fc.nat({ max: 32 }), (tokens, max, more) => {
        const s = sample({ usage: usage(tokens) });
        if (judge(s, max).status === 'pass') expect(judge(s, max + more).status).toBe('pass');
      }),
    );
  });
});
