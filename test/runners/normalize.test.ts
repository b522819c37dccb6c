import { describe, expect, it } from 'vitest';
import { createStreamAccumulator, normalizeCompletion, type Endpoint } from '../../src/runners/normalize.ts';

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null, ...extra }] });

function stream(endpoint: Endpoint, datas: string[], trailing = ''): ReturnType<ReturnType<typeof createStreamAccumulator>['finish']> {
  const acc = createStreamAccumulator(endpoint);
  datas.forEach((d, i) => acc.onData(d, (i + 1) * 10));
  return acc.finish(1000, { trailing });
}

describe('createStreamAccumulator: tool calls', () => {
  it('reassembles OpenAI-style parallel calls by index, fragments in order', () => {
    const r = stream('chat', [
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"city"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Tokyo"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: ':"Tokyo"}' } }] }),
      chunk({}, { finish_reason: 'tool_calls' }),
      '[DONE]',
    ]);
    expect(r.kind).toBe('ok');
    expect(r.toolCalls).toEqual([
      { index: 0, id: 'call_a', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      { index: 1, id: 'call_b', name: 'get_time', arguments: '{"city":"Tokyo"}' },
    ]);
    expect(r.finishReason).toBe('tool_calls');
    expect(r.deviations).toEqual([]);
    expect(r.timings.firstTokenMs).toBe(20);
    expect(r.timings.chunkMs).toEqual([20, 30, 40, 50, 60]);
  });

  it('separates parallel calls that all claim index 0 by their ids, and says so', () => {
    const r = stream('chat', [
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lima"}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Lima"}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { arguments: '' } }] }),
      '[DONE]',
    ]);
    expect(r.toolCalls).toEqual([
      { index: 0, id: 'call_a', name: 'get_weather', arguments: '{"city":"Lima"}' },
      { index: 1, id: 'call_b', name: 'get_time', arguments: '{"city":"Lima"}' },
    ]);
    expect(r.deviations).toEqual(['parallel-tool-calls-share-index']);
  });

  it('stringifies arguments sent as an object, and does not repeat a repeated name', () => {
    const r = stream('chat', [
      chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'get_weather' } }] }),
      '[DONE]',
    ]);
    expect(r.toolCalls).toEqual([{ index: 0, id: 'c1', name: 'get_weather', arguments: '{"city":"Paris","days":2}' }]);
    expect(r.deviations).toEqual(['tool-arguments-not-string']);
  });

  it('records calls without an index, without an id, or with an empty id', () => {
    const r = stream('chat', [
      chunk({ tool_calls: [{ id: '', function: { name: 'a', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 3, function: { name: 'b', arguments: '{}' } }] }),
      '[DONE]',
    ]);
    expect(r.toolCalls.map((c) => [c.index, c.id, c.name])).toEqual([
      [0, '', 'b'],
      [1, '', 'a'],
    ]);
    expect(r.deviations).toEqual(['tool-call-index-missing', 'tool-call-id-missing', 'tool-call-id-empty']);
  });
});

describe('createStreamAccumulator: content, reasoning, usage, timing', () => {
  it('does not time role-only chunks or empty content, and keeps reasoning apart from text', () => {
    const r = stream('chat', [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'Let me ' }),
      chunk({ reasoning: 'think.' }),
      chunk({ content: 'Hi' }),
      chunk({ content: '' }, { finish_reason: 'stop' }),
      JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }),
      '[DONE]',
    ]);
    expect(r).toMatchObject({ kind: 'ok', text: 'Hi', reasoning: 'Let me think.', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 3 } });
    expect(r.timings).toEqual({ firstTokenMs: 20, chunkMs: [20, 30, 40], endMs: 1000 });
  });

  it('takes one of reasoning_content and reasoning when a server sends both for the same text', () => {
    const r = stream('chat', [chunk({ reasoning_content: 'x', reasoning: 'x' }), '[DONE]']);
    expect(r.reasoning).toBe('x');
  });

  it('ignores `usage: null` on every chunk, as OpenAI sends with include_usage', () => {
    const r = stream('chat', [
      JSON.stringify({ choices: [{ index: 0, delta: { content: 'a' } }], usage: null }),
      JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }),
      '[DONE]',
    ]);
    expect(r.usage).toEqual({ promptTokens: 1, completionTokens: 1 });
    expect(r.serverTimings).toBeUndefined();
  });

  it('reads streamed completions-style logprobs (vLLM) and ranks their dicts', () => {
    const c = (text: string, lp: number, top: Record<string, number>): string =>
      JSON.stringify({ choices: [{ index: 0, text, finish_reason: null, logprobs: { tokens: [text], token_logprobs: [lp], top_logprobs: [top], text_offset: [0] } }] });
    const r = stream('completion', [c(' the', -0.5, { '7': -3, ' the': -0.5, ' a': -1.25 }), c(' end', -0.1, { ' end': -0.1 }), '[DONE]']);
    expect(r.text).toBe(' the end');
    expect(r.tokens).toEqual([
      { token: ' the', logprob: -0.5, top: [{ token: ' the', logprob: -0.5 }, { token: ' a', logprob: -1.25 }, { token: '7', logprob: -3 }] },
      { token: ' end', logprob: -0.1, top: [{ token: ' end', logprob: -0.1 }] },
    ]);
    expect(r.deviations).toEqual([]);
  });

  it('times a token whose text is held back but whose logprob arrived', () => {
    const r = stream('chat', [
      chunk({ content: '' }, { logprobs: { content: [{ token: '\ufffd', logprob: -1, bytes: [0xd0], top_logprobs: [] }] } }),
      '[DONE]',
    ]);
    expect(r.timings.chunkMs).toEqual([10]);
    expect(r.tokens).toEqual([{ token: '\ufffd', logprob: -1, bytes: [0xd0], top: [] }]);
    expect(r.timings.chunkTokens).toEqual([1]);
  });
});

describe('createStreamAccumulator: broken streams', () => {
  it('turns an error object inside a 200 stream into a protocol error, keeping what came before', () => {
    const r = stream('chat', [chunk({ content: 'partial' }), JSON.stringify({ error: { code: 500, message: 'model crashed', type: 'server_error' } }), '[DONE]']);
    expect(r.kind).toBe('protocol-error');
    expect(r.error).toEqual({ message: 'model crashed', code: '500' });
    expect(r.text).toBe('partial');
  });

  it('reports a stream that ends without [DONE]', () => {
    const r = stream('chat', [chunk({ content: 'a' }, { finish_reason: 'stop' })]);
    expect(r).toMatchObject({ kind: 'protocol-error', text: 'a', finishReason: 'stop', error: { message: 'stream ended without [DONE]' } });
  });

  it('reports an event cut off in the middle, before the missing [DONE]', () => {
    const r = stream('chat', [chunk({ content: 'a' })], 'data: {"choices":[{"de');
    expect(r.kind).toBe('protocol-error');
    expect(r.error?.message).toBe('stream ended mid-event: data: {"choices":[{"de');
  });

  it('reports an event whose JSON is cut, and still reads later events', () => {
    const r = stream('chat', ['{"choices":[{"index":0,"delta":{"content":"x', chunk({ content: 'y' }), '[DONE]']);
    expect(r.kind).toBe('protocol-error');
    expect(r.error?.message).toMatch(/^stream event is not JSON/);
    expect(r.text).toBe('y');
  });

  it('notes data after [DONE] without failing', () => {
    const r = stream('chat', [chunk({ content: 'a' }), '[DONE]', chunk({ content: 'b' })]);
    expect(r).toMatchObject({ kind: 'ok', text: 'a', deviations: ['data-after-done'] });
  });

  it('never passes an empty stream', () => {
    expect(stream('chat', []).kind).toBe('protocol-error');
  });
});

describe('normalizeCompletion', () => {
  it('reads a chat message with reasoning and object-valued tool arguments', () => {
    const r = normalizeCompletion(
      {
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: { role: 'assistant', content: null, reasoning_content: 'hmm', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] },
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4 },
      },
      'chat',
    );
    expect(r).toEqual({
      kind: 'ok',
      text: '',
      reasoning: 'hmm',
      tokens: [],
      toolCalls: [{ index: 0, id: 'c', name: 'f', arguments: '{"a":1}' }],
      finishReason: 'tool_calls',
      usage: { promptTokens: 3, completionTokens: 4 },
      deviations: ['tool-arguments-not-string'],
    });
  });

  it('reads OpenAI legacy completions logprobs, with a null first entry', () => {
    const r = normalizeCompletion(
      { choices: [{ index: 0, text: 'ab', finish_reason: 'length', logprobs: { tokens: ['a', 'b'], token_logprobs: [null, -0.2], top_logprobs: [null, { b: -0.2, c: -2 }] } }] },
      'completion',
    );
    expect(r.tokens).toEqual([
      { token: 'a', top: [] },
      { token: 'b', logprob: -0.2, top: [{ token: 'b', logprob: -0.2 }, { token: 'c', logprob: -2 }] },
    ]);
  });

  it('notes logprobs in the other endpoint’s shape', () => {
    const chatShape = { content: [{ token: 'a', logprob: -1, top_logprobs: [] }] };
    expect(normalizeCompletion({ choices: [{ index: 0, text: 'a', logprobs: chatShape }] }, 'completion').deviations).toEqual(['completion-logprobs-chat-shape']);
    const legacy = { tokens: ['a'], token_logprobs: [-1], top_logprobs: [{}] };
    expect(normalizeCompletion({ choices: [{ index: 0, message: { content: 'a' }, logprobs: legacy }] }, 'chat').deviations).toEqual(['chat-logprobs-completions-shape']);
  });

  it('accepts the body as text, and rejects what is not a completion', () => {
    expect(normalizeCompletion('{"choices":[{"index":0,"text":"x"}]}', 'completion')).toMatchObject({ kind: 'ok', text: 'x' });
    expect(normalizeCompletion('<html>', 'chat')).toMatchObject({ kind: 'protocol-error', error: { message: 'response body is not JSON: <html>' } });
    expect(normalizeCompletion({ choices: [] }, 'chat')).toMatchObject({ kind: 'protocol-error' });
    expect(normalizeCompletion({ error: { message: 'nope', type: 'invalid_request_error' } }, 'chat')).toMatchObject({
      kind: 'protocol-error',
      error: { message: 'nope', code: 'invalid_request_error' },
    });
  });

  it('joins content sent as parts and notes it', () => {
    const r = normalizeCompletion({ choices: [{ index: 0, message: { content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] } }] }, 'chat');
    expect(r).toMatchObject({ text: 'ab', deviations: ['content-not-string'] });
  });
});

describe('tokens per chunk and token bytes', () => {
  const lp = (tokens: string[]) => ({ logprobs: { content: tokens.map((token) => ({ token, logprob: -1, bytes: [...Buffer.from(token)], top_logprobs: [] })) } });

  it('counts each content chunk’s tokens from its logprobs', () => {
    const r = stream('chat', [chunk({ role: 'assistant', content: '' }), chunk({ content: 'abc' }, lp(['a', 'b', 'c'])), chunk({ content: 'd' }, lp(['d'])), chunk({}, { finish_reason: 'length' }), '[DONE]']);
    expect(r.timings.chunkMs).toEqual([20, 30]);
    expect(r.timings.chunkTokens).toEqual([3, 1]);
  });

  it('leaves the counts out when any content chunk carried no logprobs', () => {
    const r = stream('chat', [chunk({ content: 'abc' }, lp(['a', 'b', 'c'])), chunk({ content: 'd' }), '[DONE]']);
    expect(r.timings.chunkMs).toHaveLength(2);
    expect(r.timings.chunkTokens).toBeUndefined();
  });

  it('keeps a token’s bytes, which may hold half a character, and flags bytes that are not bytes', () => {
    const half = normalizeCompletion(
      { choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'é' }, logprobs: { content: [{ token: '\ufffd', logprob: -1, bytes: [0xc3], top_logprobs: [] }, { token: '\ufffd', logprob: -1, bytes: [0xa9], top_logprobs: [] }] } }] },
      'chat',
    );
    expect(half.tokens.map((t) => t.bytes)).toEqual([[0xc3], [0xa9]]);
    expect(Buffer.from(half.tokens.flatMap((t) => t.bytes!)).toString('utf8')).toBe('é');
    const bad = normalizeCompletion({ choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, logprobs: { content: [{ token: 'x', logprob: -1, bytes: [300], top_logprobs: [] }] } }] }, 'chat');
    expect(bad.tokens[0]!.bytes).toBeUndefined();
    expect(bad.deviations).toContain('logprob-bytes-malformed');
  });
});
