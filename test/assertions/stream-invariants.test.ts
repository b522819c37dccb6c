import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateSample } from '../../src/assertions/evaluate.ts';
import { checkStreamInvariants, isStreamDeviation, streamInvariants } from '../../src/assertions/stream-invariants.ts';
import type { Case, CheckSpec, Sample, TokenStep } from '../../src/core/types.ts';
import { chatCase, call, input, sample, step, TOL } from './samples.ts';

const withLogprobs = chatCase({ params: { max_tokens: 24, temperature: 0, stream: true, logprobs: true, top_logprobs: 5 }, checks: [{ kind: 'stream-invariants' }] });
const withoutLogprobs = chatCase({ params: { max_tokens: 24, temperature: 0, stream: true }, checks: [{ kind: 'stream-invariants' }] });

const check = (s: Sample, testCase: Case = withLogprobs, spec: CheckSpec = { kind: 'stream-invariants' }) =>
  streamInvariants.compare(input({ sample: s, spec, testCase }));

/** A healthy streamed answer, one token per chunk, as conform serve sends it (chat-stream, max_tokens 24). */
function streamed(tokens: string[], overrides: Partial<Sample> = {}): Sample {
  const steps: TokenStep[] = tokens.map((t) => step(t, -0.5));
  const chunkMs = tokens.map((_, i) => 3.3 + i * 0.8);
  return sample({
    streamed: true,
    text: tokens.join(''),
    tokens: steps,
    finishReason: 'length',
    usage: { promptTokens: 12, completionTokens: tokens.length },
    timings: { firstByteMs: 2.8, firstTokenMs: chunkMs[0], chunkMs, endMs: (chunkMs.at(-1) ?? 3) + 0.5 },
    ...overrides,
  });
}
const HELLO = ['O', '<', 'ect', 'ack', 'omp', 'France'];

describe('stream-invariants: table', () => {
  it('passes a healthy stream and names the five invariants', () => {
    const v = check(streamed(HELLO));
    expect(v.status).toBe('pass');
    expect(v.measured).toBe('5/5');
    expect(v.message).toBe('5 stream invariants hold');
    expect((v.details?.invariants as Array<{ name: string }>).map((i) => i.name)).toEqual(['not-empty', 'deviations', 'first-content', 'token-count', 'finish-reason']);
  });

  it('skips a sample that was not streamed, saying why', () => {
    const v = check(sample({ text: 'hi' }));
    expect(v.status).toBe('skip');
    expect(v.message).toContain('not streamed');
  });

  it('must catch: an empty pass (no content, tokens, tool call or finish_reason)', () => {
    const v = check(sample({ streamed: true, finishReason: null, timings: { chunkMs: [], endMs: 5 } }), withoutLogprobs);
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('empty');
    expect(v.message).toMatch(/^not-empty: .*empty answer/);
  });

  it('must catch: a stream without finish_reason', () => {
    const v = check(streamed(HELLO, { finishReason: null }));
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^finish-reason: no finish_reason/);
  });

  it('must catch: deviations that mean broken streaming, unless the case allows them', () => {
    for (const deviation of ['stream-ignored', 'stream-chunk-message-not-delta', 'data-after-done']) {
      const v = check(streamed(HELLO, { deviations: ['tool-call-id-missing', deviation] }));
      expect(v.status).toBe('fail');
      expect(v.measured).toBe(deviation);
      expect(v.message).toContain(deviation);
      expect(check(streamed(HELLO, { deviations: [deviation] }), withLogprobs, { kind: 'stream-invariants', allowDeviations: [deviation] }).status).toBe('pass');
    }
    expect(check(streamed(HELLO, { deviations: ['tool-call-id-missing', 'logprob-not-number'] })).status).toBe('pass');
  });

  it('must catch: a server that answered in one piece when asked to stream (no first-token time)', () => {
    const s = streamed(HELLO, { deviations: ['stream-ignored'], timings: { firstByteMs: 40, chunkMs: [], endMs: 41 } });
    const v = check(s);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('and 1 more: first-content');
  });

  it('must catch: content without a first-token time', () => {
    const s = streamed(HELLO);
    delete s.timings.firstTokenMs;
    const v = check(s);
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^first-content: content arrived but no first-token time/);
  });

  it('must catch: a first-token time that is not the first content chunk, or out of order', () => {
    const s = streamed(HELLO);
    expect(check({ ...s, timings: { ...s.timings, firstTokenMs: 4.1 } }).message).toMatch(/is not the arrival of the first content chunk/);
    expect(check({ ...s, timings: { ...s.timings, firstByteMs: 3.5 } }).message).toMatch(/before the first byte/);
    expect(check({ ...s, timings: { ...s.timings, endMs: 3 } }).message).toMatch(/after the stream ended/);
    const shuffled = [...s.timings.chunkMs];
    [shuffled[2], shuffled[3]] = [shuffled[3]!, shuffled[2]!];
    expect(check({ ...s, timings: { ...s.timings, chunkMs: shuffled } }).message).toMatch(/content chunk 3 arrived .* before chunk 2/);
  });

  it('must catch: a first streamed token that does not start the final text (TEST06)', () => {
    const v = check(streamed(HELLO, { text: 'X<ectackompFrance' }));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('"O"');
    expect(v.threshold).toBe('prefix of text');
  });

  it('compares the first token with the reasoning when the server streamed reasoning first', () => {
    const s = streamed(['Let', ' me', ' think'], { text: 'Paris', reasoning: 'Let me think' });
    expect(check(s).status).toBe('pass');
  });

  it('does not compare a first token that is half a UTF-8 character', () => {
    const s = streamed(['\uFFFD', '\uFFFD', '!'], { text: '🚀!' });
    const v = check(s);
    expect(v.status).toBe('pass');
    const first = (v.details?.invariants as Array<{ name: string; note: string }>).find((i) => i.name === 'first-content')!;
    expect(first.note).toContain('partial character');
  });

  it('must catch: usage that disagrees with the tokens received (TEST06 token count)', () => {
    const v = check(streamed(HELLO, { usage: { promptTokens: 12, completionTokens: 7 } }));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(6);
    expect(v.threshold).toBe(7);
    expect(v.message).toMatch(/^token-count: received 6 tokens with logprobs, but usage.completion_tokens is 7/);
  });

  it('skips the token count without logprobs, and says so', () => {
    const s = streamed(HELLO, { tokens: [], usage: { promptTokens: 12, completionTokens: 99 } });
    const v = check(s, withoutLogprobs);
    expect(v.status).toBe('pass');
    expect(v.measured).toBe('4/5');
    expect(v.message).toContain('token-count (logprobs not requested');
  });

  it('skips the token count when logprobs were requested but the stream carried none, or usage is missing', () => {
    expect(check(streamed(HELLO, { tokens: [] })).message).toContain('logprobs requested but the stream carried none');
    expect(check(streamed(HELLO, { usage: undefined })).message).toContain('no usage in the stream');
  });

  it('passes a streamed tool call, which carries no text and no logprobs', () => {
    const s = sample({
      streamed: true,
      toolCalls: [call('get_time', '{"timezone":"America/Lima"}')],
      finishReason: 'tool_calls',
      usage: { promptTokens: 80, completionTokens: 47 },
      timings: { firstByteMs: 5.3, firstTokenMs: 55.2, chunkMs: [55.2], endMs: 55.6 },
    });
    expect(check(s).status).toBe('pass');
  });

  it('must catch: tokens generated to the limit and none delivered (conform serve, tool call cut at max_tokens 24)', () => {
    // Measured on conform serve --gpu cpu: tool-call-named streamed with max_tokens 24 ends with usage 24,
    // finish_reason "length" and nothing else, where the same request unstreamed returns the partial text.
    const s = sample({ streamed: true, finishReason: 'length', usage: { promptTokens: 80, completionTokens: 24 }, timings: { firstByteMs: 3.6, chunkMs: [], endMs: 35.4 } });
    const v = check(s);
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(0);
    expect(v.threshold).toBe(24);
    expect(v.message).toContain('delivered no content');
  });

  it('must catch: a first-token time with nothing received', () => {
    const s = sample({ streamed: true, finishReason: 'stop', timings: { firstTokenMs: 3, chunkMs: [], endMs: 5 } });
    expect(check(s, withoutLogprobs).message).toMatch(/^first-content: firstTokenMs is 3 ms but no content/);
  });

  it('errors on an allowDeviations that is not a list of names', () => {
    expect(check(streamed(HELLO), withLogprobs, { kind: 'stream-invariants', allowDeviations: 'stream-ignored' }).status).toBe('error');
  });

  it('an error inside a 200 stream never reaches the check: evaluateSample fails the protocol-error sample', () => {
    const s = streamed(HELLO, { kind: 'protocol-error', error: { message: 'stream carried an error object' } });
    const verdicts = evaluateSample({ testCase: withLogprobs, sample: s, sameBackendAsReference: true, tolerance: TOL });
    expect(verdicts).toEqual([{ check: 'sample', status: 'fail', measured: 'protocol-error', message: 'protocol-error: stream carried an error object; the response broke the OpenAI protocol: the backend is at fault, not the infrastructure' }]);
  });

  it('recognizes the runner’s stream deviations', () => {
    expect(['stream-ignored', 'stream-not-requested', 'stream-chunk-message-not-delta', 'data-after-done'].every(isStreamDeviation)).toBe(true);
    expect(['tool-call-id-missing', 'top-logprobs-capped:20->10', 'content-not-string'].some(isStreamDeviation)).toBe(false);
  });
});

// --- Properties -------------------------------------------------------------------------------

const piece = fc.stringMatching(/^[a-zA-Z ,.!]{1,6}$/);
/** A consistent stream: n tokens, one per chunk, at increasing times, with matching usage. */
const healthy = fc
  .tuple(fc.array(piece, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 500 }), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 30, maxLength: 30 }), fc.constantFrom('stop', 'length'))
  .map(([tokens, start, gaps, finishReason]) => {
    const chunkMs: number[] = [];
    let t = start + 1;
    for (let i = 0; i < tokens.length; i++) chunkMs.push((t += gaps[i]!));
    return sample({
      streamed: true,
      text: tokens.join(''),
      tokens: tokens.map((x) => step(x, -0.1)),
      finishReason,
      usage: { promptTokens: 5, completionTokens: tokens.length },
      timings: { firstByteMs: start, firstTokenMs: chunkMs[0], chunkMs, endMs: chunkMs.at(-1)! + 1 },
    });
  });

describe('stream-invariants: properties', () => {
  it('every consistent stream passes, with or without logprobs requested', () => {
    fc.assert(
      fc.property(healthy, fc.boolean(), (s, logprobs) => {
        expect(check(s, logprobs ? withLogprobs : withoutLogprobs).status).toBe('pass');
      }),
      { numRuns: 300 },
    );
  });

  it('an off-by-any usage count fails when logprobs were requested', () => {
    fc.assert(
      fc.property(healthy, fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0), (s, delta) => {
        const n = s.tokens.length + delta;
        fc.pre(n >= 0);
        const v = check({ ...s, usage: { promptTokens: 5, completionTokens: n } });
        expect(v.status).toBe('fail');
        expect(checkStreamInvariants({ ...s, usage: { promptTokens: 5, completionTokens: n } }, true).find((i) => i.name === 'token-count')!.status).toBe('fail');
      }),
      { numRuns: 200 },
    );
  });
});
