import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spell, textMatchesTokens } from '../../src/assertions/text-matches-tokens.ts';
import type { Case, Sample, TokenStep } from '../../src/core/types.ts';
import { call, chatCase, input, sample, step, tokenSample } from './samples.ts';

const judge = (s: Sample, testCase: Case = chatCase()) => textMatchesTokens.compare(input({ sample: s, testCase, spec: { kind: 'text-matches-tokens' } }));
const withBytes = (token: string, bytes: number[]): TokenStep => ({ ...step(token, -0.1), bytes });
const utf8 = (s: string) => [...new TextEncoder().encode(s)];

describe('text-matches-tokens', () => {
  it('passes text that is its tokens', () => {
    expect(judge(tokenSample([step('Hel', -0.1), step('lo', -0.2), step('!', -0.3)])).status).toBe('pass');
  });

  it('fails text with words the tokens never spelled (item 14: the previous answer prepended)', () => {
    const s = tokenSample([step('Hel', -0.1), step('lo', -0.2)], { text: 'Seven. Hello' });
    const v = judge(s);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('the text is not what its 2 tokens spell, at character 0');
    expect(v.message).toContain('"Seven. Hello"');
  });

  it('fails text that lost words', () => {
    expect(judge(tokenSample([step('Hel', -0.1), step('lo', -0.2), step(' you', -0.2)], { text: 'Hello' })).status).toBe('fail');
  });

  it('joins byte-fallback tokens by their bytes: 🚀 over four tokens of one byte each', () => {
    const rocket = utf8('🚀');
    const tokens = [withBytes('Go ', utf8('Go ')), ...rocket.map((b) => withBytes('\uFFFD', [b]))];
    expect(spell(tokens)).toBe('Go 🚀');
    expect(judge(tokenSample(tokens, { text: 'Go 🚀' })).status).toBe('pass');
    expect(judge(tokenSample(tokens, { text: 'Go 🚀🚀' })).status).toBe('fail');
  });

  it('without bytes, lets a U+FFFD token stand for the character it held', () => {
    const tokens = [step('Go ', -0.1), step('\uFFFD', -0.1), step('\uFFFD', -0.1), step('\uFFFD', -0.1), step('\uFFFD', -0.1), step('!', -0.1)];
    expect(judge(tokenSample(tokens, { text: 'Go 🚀!' })).status).toBe('pass');
    expect(judge(tokenSample(tokens, { text: 'No 🚀!' })).status).toBe('fail');
  });

  it('allows a stop string the tokens hold and the text cut (llama-server streamed)', () => {
    const c = chatCase({ params: { max_tokens: 24, stop: ['ten'] } });
    const s = tokenSample([step('nine', -0.1), step(' ten', -0.1)], { text: 'nine ', finishReason: 'stop' });
    expect(judge(s, c).status).toBe('pass');
    // Not when the tokens run on past the stop with other text, nor without a stop reason.
    expect(judge(tokenSample([step('nine', -0.1), step(' eleven', -0.1)], { text: 'nine ', finishReason: 'stop' }), c).status).toBe('fail');
    expect(judge({ ...s, finishReason: 'length' }, c).status).toBe('fail');
  });

  it('allows trailing tokens dropped for a stop string (llama-server, not streamed)', () => {
    const c = chatCase({ params: { max_tokens: 24, stop: ['\n\n'] } });
    expect(judge(tokenSample([step('one', -0.1)], { text: 'one two', finishReason: 'stop' }), c).status).toBe('pass');
  });

  it('checks reasoning then content, template tags allowed around them', () => {
    const tokens = ['<think>', 'Let', ' me', '</think>', '\n', 'Hi'].map((t) => step(t, -0.1));
    expect(judge(tokenSample(tokens, { reasoning: 'Let me', text: 'Hi' })).status).toBe('pass');
    expect(judge(tokenSample(tokens, { reasoning: 'Let me', text: 'Hi there' })).status).toBe('fail');
    expect(judge(tokenSample(tokens, { reasoning: 'Hi', text: 'Let me' })).status).toBe('fail');
  });

  it('checks a tool call against the tokens that spelled it, not against the empty content', () => {
    const json = '{"name": "get_time", "arguments": { "timezone": "Asia/Tokyo"}}';
    const tokens = json.match(/.{1,3}/g)!.map((t) => step(t, -0.1));
    const ok = tokenSample(tokens, { text: '', toolCalls: [call('get_time', '{"timezone":"Asia/Tokyo"}')], finishReason: 'tool_calls' });
    expect(judge(ok).status).toBe('pass');
    const otherArgs = { ...ok, toolCalls: [call('get_time', '{"timezone":"Europe/Oslo"}')] };
    const v = judge(otherArgs);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('"Europe/Oslo"');
  });

  it('skips a sample without tokens', () => {
    expect(judge(sample({ text: 'Hello' })).status).toBe('skip');
  });

  it('identity: any text split into tokens, with or without bytes, passes', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 4 }), { minLength: 1, maxLength: 12 }), fc.boolean(), (pieces, bytes) => {
        const tokens = pieces.map((p) => (bytes ? withBytes(p, utf8(p)) : step(p, -0.1)));
        expect(judge(tokenSample(tokens)).status).toBe('pass');
      }),
    );
  });

  it('a word added to the text is always caught', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), (pieces) => {
        const s = tokenSample(pieces.map((p) => step(p, -0.1)));
        expect(judge({ ...s, text: `Extra words ${s.text}` }).status).toBe('fail');
      }),
    );
  });
});
