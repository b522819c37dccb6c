import { describe, expect, it } from 'vitest';
import { reasoningSplit } from '../../src/assertions/reasoning-split.ts';
import type { Sample } from '../../src/core/types.ts';
import { input, step, tokenSample } from './samples.ts';

const judge = (s: Sample, reference: Sample) => reasoningSplit.compare(input({ sample: s, reference, spec: { kind: 'reasoning-split' } }));
const tokens = ['Hello', ' there', ',', ' friend'].map((t) => step(t, -0.2));
const golden = tokenSample(tokens);

describe('reasoning-split', () => {
  it('passes the same split', () => {
    expect(judge(structuredClone(golden), golden).status).toBe('pass');
    const reasoned = tokenSample(tokens, { reasoning: 'Hello there', text: ', friend' });
    expect(judge(structuredClone(reasoned), reasoned).status).toBe('pass');
  });

  it('fails the same tokens with the first of them moved into reasoning_content (item 10)', () => {
    const moved = tokenSample(tokens, { reasoning: 'Hello', text: ' there, friend' });
    const v = judge(moved, golden);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('same 4 tokens as golden, split differently');
    expect(v.message).toContain('reasoning "Hello"');
  });

  it('with other tokens, fails reasoning on one side only, either way', () => {
    const other = tokenSample([step('Hi', -0.1)], { reasoning: 'Thinking', text: 'Hi' });
    expect(judge(other, golden).message).toContain('golden answered in content only');
    expect(judge(golden, other).message).toContain('the backend sent no reasoning_content');
    expect(judge(golden, other).status).toBe('fail');
  });

  it('is symmetric in its status', () => {
    const moved = tokenSample(tokens, { reasoning: 'Hello', text: ' there, friend' });
    expect(judge(golden, moved).status).toBe(judge(moved, golden).status);
  });
});
