import { describe, expect, it } from 'vitest';
import { exact } from '../../src/assertions/exact.ts';
import type { Sample } from '../../src/core/types.ts';
import { call, input, sample, step, tokenSample } from './samples.ts';

const golden = tokenSample([step('Hello', -0.2), step(',', -0.5), step(' world', -0.9)], {
  toolCalls: [call('get_time', '{"timezone":"America/Lima"}')],
});
const copy = (s: Sample): Sample => structuredClone(s);
const judge = (got: Sample, reference: Sample = golden, sameBackendAsReference = true) =>
  exact.compare(input({ sample: got, reference, sameBackendAsReference, spec: { kind: 'exact' } }));

describe('exact', () => {
  it('skips on a backend other than the one golden was recorded on, even when outputs differ', () => {
    const v = judge(tokenSample([step('Bye', -0.1)]), golden, false);
    expect(v.status).toBe('skip');
    expect(v.check).toBe('exact');
    expect(v.message).toContain('greedy-divergence');
  });

  it('passes an identical sample on the golden backend', () => {
    const v = judge(copy(golden));
    expect(v.status).toBe('pass');
    expect(v.measured).toBe(3);
    expect(v.threshold).toBe('identical');
  });

  it('ignores logprob noise and tool-call ids: determinism is about tokens, text and calls', () => {
    const got = copy(golden);
    got.tokens[1]!.logprob = -0.51;
    got.toolCalls[0]!.id = 'call_other';
    expect(judge(got).status).toBe('pass');
  });

  it('fails on a token difference, naming the position and both tokens', () => {
    const got = tokenSample([step('Hello', -0.2), step('!', -0.5), step(' world', -0.9)], { toolCalls: golden.toolCalls });
    const v = judge(got);
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(1);
    expect(v.details?.divergenceIndex).toBe(1);
    expect(v.message).toContain('at token 1: golden ",", got "!"');
    expect(v.message).toContain('not deterministic');
  });

  it('fails on a token-id difference even when the strings agree', () => {
    const ref = sample({ text: 'x', tokens: [{ token: 'x', id: 1, top: [] }] });
    const got = sample({ text: 'x', tokens: [{ token: 'x', id: 2, top: [] }] });
    expect(judge(got, ref).status).toBe('fail');
  });

  it('fails on a length difference', () => {
    const got = tokenSample(golden.tokens.slice(0, 2), { toolCalls: golden.toolCalls });
    const v = judge(got);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('in length: golden 3 tokens, got 2');
  });

  it('fails on a tool-call arguments difference with identical tokens', () => {
    const got = copy(golden);
    got.toolCalls[0]!.arguments = '{"timezone":"Asia/Tokyo"}';
    const v = judge(got);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('in its tool calls');
  });

  it('fails on a tool-call name difference and on a missing call', () => {
    const renamed = copy(golden);
    renamed.toolCalls[0]!.name = 'get_weather';
    expect(judge(renamed).status).toBe('fail');
    const none = copy(golden);
    none.toolCalls = [];
    expect(judge(none).message).toContain('in its tool calls');
  });

  it('fails on a text difference when there are no tokens (a seeded sample without logprobs)', () => {
    // smoke.yaml's chat-seeded-sampling sets logprobs: false, so its golden has text and no tokens.
    const v = judge(sample({ text: 'The seed gave this.' }), sample({ text: 'The seed gave that.' }));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(-1);
    expect(v.message).toContain('in its text');
    expect(v.message).not.toContain('in length');
  });

  it('throws without a reference (evaluateSample reports the missing golden before calling it)', () => {
    expect(() => exact.compare(input({ sample: golden, sameBackendAsReference: true }))).toThrow(/needs a reference/);
  });
});
