import { describe, expect, it } from 'vitest';
import { promptTokens, promptWords, toolTokensFloor } from '../../src/assertions/prompt-tokens.ts';
import type { Case, Sample } from '../../src/core/types.ts';
import { chatCase, input, sample } from './samples.ts';

const withPrompt = (promptTokensRead: number) => sample({ text: 'x', usage: { promptTokens: promptTokensRead, completionTokens: 4 } });
const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const caseOf = (content: string, max_tokens = 16): Case => chatCase({ messages: [{ role: 'user', content }], params: { max_tokens, temperature: 0 } });
const judge = (s: Sample, reference?: Sample, testCase: Case = caseOf('Say hello.'), contextSize?: number) =>
  promptTokens.compare(input({ sample: s, reference, testCase, spec: { kind: 'prompt-tokens' }, identity: contextSize === undefined ? {} : { contextSize } }));

describe('prompt-tokens', () => {
  it('counts the words of every message and of a completion prompt', () => {
    expect(promptWords(chatCase({ messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: ' a  b\nc ' }, { role: 'assistant', content: null }] }))).toBe(5);
    expect(promptWords({ ...chatCase(), endpoint: 'completion', messages: undefined, prompt: 'Once upon a time' })).toBe(4);
  });

  it('passes the count golden read', () => {
    const v = judge(withPrompt(17), withPrompt(17));
    expect(v).toMatchObject({ status: 'pass', measured: 17, threshold: 17 });
  });

  it('fails a prompt cut in half and names both counts (item 15: 75 against golden 119)', () => {
    const v = judge(withPrompt(75), withPrompt(119), caseOf(words(60)), 4096);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('read 75 prompt tokens, golden 119');
    expect(v.message).toContain('cut the prompt');
  });

  it('fails a prompt longer than golden read too', () => {
    const v = judge(withPrompt(30), withPrompt(17));
    expect(v.status).toBe('fail');
    expect(v.message).toContain('read 30 prompt tokens, golden 17');
  });

  it('calls a count at the context, below golden, truncation (llama.cpp b4748: 3,884 of a 10,000-word prompt in 4,096)', () => {
    const v = judge(withPrompt(3884), withPrompt(13012), caseOf(words(10_000)), 4096);
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^truncated prompt: the backend read 3884 prompt tokens of a prompt that needs 13012 \(golden read 13012\); its context holds 4096/);
  });

  it('fails tools that cannot be in the prompt (llama-server read 23 tokens for a question plus 754 bytes of tools), whatever the tool_choice', () => {
    const tool = (name: string) => ({ type: 'function' as const, function: { name, description: `${name} for a city, in the local time zone`, parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Lima', 'Oslo', 'Tokyo'] } }, required: ['city'] } } });
    const offered = (tool_choice: Case['params']['tool_choice']): Case => chatCase({ messages: [{ role: 'user', content: 'What time is it in Lima?' }], params: { max_tokens: 16, tools: [tool('get_weather'), tool('get_time')], tool_choice } });
    const { bytes, floor } = toolTokensFloor(offered('auto'));
    expect(floor).toBe(Math.floor(bytes / 8));
    expect(floor).toBeGreaterThan(23);
    const v = judge(withPrompt(23), undefined, offered('auto'));
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^tools left out of the prompt: the backend read 23 prompt tokens/);
    expect(judge(withPrompt(23), undefined, offered('required')).status).toBe('fail');
    expect(judge(withPrompt(23), undefined, offered('none')).status).toBe('fail');
    expect(judge(withPrompt(3 + floor), undefined, offered('auto')).status).toBe('pass');
  });

  it('catches the same truncation without golden, from the words sent', () => {
    const v = judge(withPrompt(3884), undefined, caseOf(words(10_000)), 4096);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('needs 5000 (10000 words sent, at least 5000 tokens)');
    // Without the context size it is still a cut prompt.
    const w = judge(withPrompt(3884), undefined, caseOf(words(10_000)));
    expect(w.status).toBe('fail');
    expect(w.message).toContain('3884 prompt tokens of 10000 words sent');
  });

  it('passes a short prompt without golden: a chat template adds tokens, never removes words', () => {
    expect(judge(withPrompt(17), undefined, caseOf('Say hello.'), 4096).status).toBe('pass');
  });

  it('skips a sample without usage', () => {
    expect(judge(sample({ text: 'x' }), withPrompt(17)).status).toBe('skip');
  });
});
