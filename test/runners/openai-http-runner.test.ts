import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Case } from '../../src/core/types.ts';
import { createOpenAiHttpRunner, type OpenAiHttpRunnerOptions } from '../../src/runners/openai-http-runner.ts';
import { startReplayServer, type ReplayServer, type ReplayStep } from '../helpers/replay-server.ts';
import { buildResponse, ssePayload } from './support/synthetic-response.ts';

const chatCase: Case = { id: 'hello', endpoint: 'chat', messages: [{ role: 'user', content: 'Say hello.' }], params: { max_tokens: 4, temperature: 0 }, checks: [] };
const streamCase: Case = { ...chatCase, params: { ...chatCase.params, stream: true } };

const okJson = buildResponse(200, { 'Content-Type': 'application/json' }, JSON.stringify({ choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello' } }], usage: { prompt_tokens: 3, completion_tokens: 1 } }));
const delta = (content: string, finish: string | null = null): string => JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] });
const sse = (datas: string[], done = true, framing: 'chunked' | 'close' = 'chunked'): Uint8Array =>
  buildResponse(200, { 'Content-Type': 'text/event-stream' }, ssePayload(datas, done), framing);

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function runAgainst(steps: ReplayStep[], testCase: Case = chatCase, options: Partial<OpenAiHttpRunnerOptions> = {}) {
  server = await startReplayServer(steps);
  const runner = createOpenAiHttpRunner({ backend: 'replay', baseUrl: server.baseUrl, model: 'tiny', retryBaseDelayMs: 5, requestTimeoutMs: 5_000, ...options });
  return runner.run(testCase);
}

describe('requests', () => {
  it('posts chat cases to /chat/completions with the model, messages and params', async () => {
    const sample = await runAgainst([{ bytes: okJson }], { ...chatCase, params: { ...chatCase.params, stop: ['\n'], seed: 7 } });
    expect(sample).toMatchObject({ kind: 'ok', text: 'Hello', retries: 0, streamed: false });
    const [req] = server!.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/v1/chat/completions');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers.authorization).toBeUndefined();
    expect(JSON.parse(req!.body)).toEqual({ model: 'tiny', messages: chatCase.messages, max_tokens: 4, temperature: 0, stop: ['\n'], seed: 7 });
  });

  it('posts completion cases to /completions with the prompt, turning logprobs into a count', async () => {
    const completion: Case = { id: 'c', endpoint: 'completion', prompt: 'Once upon a time', params: { max_tokens: 8, logprobs: true, top_logprobs: 3, stream: true }, checks: [] };
    await runAgainst([{ bytes: sse([JSON.stringify({ choices: [{ index: 0, text: 'x' }] })]) }], completion);
    const [req] = server!.requests;
    expect(req!.path).toBe('/v1/completions');
    expect(JSON.parse(req!.body)).toEqual({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 8, logprobs: 3, stream: true, stream_options: { include_usage: true } });
  });

  it('never sends top_logprobs without logprobs: true, and records nothing for leaving it out', async () => {
    // smoke/chat-seeded-sampling turns logprobs off but inherits the suite's top_logprobs 10; llama-server answers that with 400.
    const sample = await runAgainst([{ bytes: okJson }], { ...chatCase, params: { ...chatCase.params, logprobs: false, top_logprobs: 10 } }, { topLogprobsCap: 5 });
    expect(JSON.parse(server!.requests[0]!.body)).toEqual({ model: 'tiny', messages: chatCase.messages, max_tokens: 4, temperature: 0, logprobs: false });
    expect(sample.deviations).toEqual([]);
    await server!.close();
    await runAgainst([{ bytes: okJson }], { ...chatCase, params: { ...chatCase.params, top_logprobs: 10 } });
    expect(JSON.parse(server!.requests[0]!.body)).not.toHaveProperty('top_logprobs');
  });

  it('still sends and caps top_logprobs when logprobs are asked for', async () => {
    const sample = await runAgainst([{ bytes: okJson }], { ...chatCase, params: { ...chatCase.params, logprobs: true, top_logprobs: 10 } }, { topLogprobsCap: 5 });
    expect(JSON.parse(server!.requests[0]!.body)).toMatchObject({ logprobs: true, top_logprobs: 5 });
    expect(sample.deviations).toEqual(['top-logprobs-capped:10->5']);
  });

  it('notes a server that answers a stream request in one piece', async () => {
    const sample = await runAgainst([{ bytes: okJson }], streamCase);
    expect(sample).toMatchObject({ kind: 'ok', text: 'Hello', streamed: true, deviations: ['stream-ignored'] });
  });

  it('does not count a role-only first chunk as the first token', async () => {
    const role = JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
    const bytes = sse([role, delta('Hi'), delta('', 'stop')]);
    const at = Buffer.from(bytes).indexOf('data: {"choices":[{"index":0,"delta":{"content":"Hi"');
    const sample = await runAgainst([{ bytes, splitAt: [at - 8], delayMs: 60 }], streamCase);
    expect(sample.kind).toBe('ok');
    expect(sample.timings.chunkMs).toHaveLength(1);
    expect(sample.timings.firstTokenMs! - sample.timings.firstByteMs!).toBeGreaterThanOrEqual(45);
  });
});

describe('retries', () => {
  it('honours Retry-After on 429 over its own backoff, and counts the retry', async () => {
    const tooMany = buildResponse(429, { 'Retry-After': '0', 'Content-Type': 'application/json' }, '{"error":{"message":"slow down"}}');
    const started = performance.now();
    // A 10 s backoff would time the test out; Retry-After: 0 must win.
    const sample = await runAgainst([{ bytes: tooMany }, { bytes: okJson }], chatCase, { retryBaseDelayMs: 10_000 });
    expect(sample).toMatchObject({ kind: 'ok', text: 'Hello', retries: 1 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server!.requests).toHaveLength(2);
  });

  it('accepts Retry-After as an HTTP date', async () => {
    const past = new Date(Date.now() - 60_000).toUTCString();
    const busy = buildResponse(503, { 'Retry-After': past }, 'busy');
    const sample = await runAgainst([{ bytes: busy }, { bytes: okJson }], chatCase, { retryBaseDelayMs: 10_000 });
    expect(sample).toMatchObject({ kind: 'ok', retries: 1 });
  });

  it('gives up at once when Retry-After asks for longer than a request may take', async () => {
    const later = buildResponse(429, { 'Retry-After': '3600' }, '{"error":{"message":"quota"}}');
    const sample = await runAgainst([{ bytes: later }, { bytes: okJson }], chatCase, { requestTimeoutMs: 1_000 });
    expect(sample).toMatchObject({ kind: 'http-error', retries: 0, error: { status: 429, message: 'quota' } });
  });

  it('retries 503 twice, then succeeds', async () => {
    const busy = buildResponse(503, { 'Content-Type': 'text/plain' }, 'Loading model');
    const sample = await runAgainst([{ bytes: busy }, { bytes: busy }, { bytes: okJson }]);
    expect(sample).toMatchObject({ kind: 'ok', text: 'Hello', retries: 2 });
  });

  it('stops after maxRetries and reports the last status', async () => {
    const gateway = buildResponse(502, {}, '');
    const sample = await runAgainst([{ bytes: gateway }, { bytes: gateway }, { bytes: gateway }], chatCase, { maxRetries: 2 });
    expect(sample).toMatchObject({ kind: 'http-error', retries: 2, error: { status: 502, message: 'HTTP 502' } });
  });

  it('does not retry a 500, which llama.cpp uses for bad requests', async () => {
    const bad = buildResponse(500, { 'Content-Type': 'application/json' }, '{"error":{"code":500,"message":"bad","type":"server_error"}}');
    const sample = await runAgainst([{ bytes: bad }, { bytes: okJson }]);
    expect(sample).toMatchObject({ kind: 'http-error', retries: 0, error: { status: 500, message: 'bad', code: '500' } });
  });

  it('retries a reset connection, then succeeds', async () => {
    const sample = await runAgainst([{ action: 'reset' }, { bytes: okJson }]);
    expect(sample).toMatchObject({ kind: 'ok', retries: 1 });
  });

  it('reports a server that keeps resetting as a crash naming the backend and URL', async () => {
    const sample = await runAgainst([{ action: 'reset' }, { action: 'reset' }, { action: 'reset' }, { action: 'reset' }]);
    expect(sample).toMatchObject({ kind: 'crash', retries: 3, error: { code: 'ECONNRESET' } });
    expect(sample.error!.message).toContain(`replay at ${server!.baseUrl}/chat/completions`);
    expect(sample.error!.message).toContain('gave up after 3 retries');
  });

  it('reports a refused connection as a crash after its retries', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const runner = createOpenAiHttpRunner({ backend: 'gone', baseUrl: `http://127.0.0.1:${port}/v1/`, model: 'tiny', maxRetries: 2, retryBaseDelayMs: 5 });
    const sample = await runner.run(chatCase);
    expect(sample).toMatchObject({ kind: 'crash', retries: 2, error: { code: 'ECONNREFUSED' } });
    expect(sample.error!.message).toContain(`gone at http://127.0.0.1:${port}/v1/chat/completions`);
  });
});

describe('broken answers', () => {
  it('turns an error object inside a 200 stream into a protocol error with the server’s message', async () => {
    const err = JSON.stringify({ error: { code: 500, message: 'Input prompt is too big', type: 'server_error' } });
    const sample = await runAgainst([{ bytes: sse([delta('Hel'), err], false) }], streamCase);
    expect(sample).toMatchObject({ kind: 'protocol-error', text: 'Hel', error: { message: 'Input prompt is too big', code: '500' } });
  });

  it('reports a cleanly ended stream without [DONE], keeping what came', async () => {
    const sample = await runAgainst([{ bytes: sse([delta('Hel'), delta('lo', 'stop')], false) }], streamCase);
    expect(sample).toMatchObject({ kind: 'protocol-error', text: 'Hello', finishReason: 'stop', error: { message: 'stream ended without [DONE]' } });
  });

  it('reports a stream cut in the middle of an event’s JSON', async () => {
    const body = ssePayload([delta('Hel')], false) + 'data: {"choices":[{"index":0,"del';
    const bytes = buildResponse(200, { 'Content-Type': 'text/event-stream' }, body, 'close');
    const sample = await runAgainst([{ bytes, then: 'end' }], streamCase);
    expect(sample).toMatchObject({ kind: 'protocol-error', text: 'Hel', error: { message: 'stream ended mid-event: data: {"choices":[{"index":0,"del' } });
  });

  it('reports a terminated event whose JSON is cut', async () => {
    const sample = await runAgainst([{ bytes: sse([delta('Hel'), '{"choices":[{"index":0,"delta":{"content":"lo']) }], streamCase);
    expect(sample.kind).toBe('protocol-error');
    expect(sample.error!.message).toMatch(/^stream event is not JSON/);
  });

  it('reports a connection lost mid-stream as a crash, keeping what came, without retrying', async () => {
    const bytes = sse([delta('Hel'), delta('lo')]);
    const cutAt = Buffer.from(bytes).indexOf('"lo"');
    const sample = await runAgainst([{ bytes: bytes.subarray(0, cutAt), then: 'reset' }, { bytes: okJson }], streamCase);
    expect(sample).toMatchObject({ kind: 'crash', text: 'Hel', retries: 0 });
    expect(sample.error!.message).toContain('connection lost mid-answer from replay');
  });

  it('does not call a connection dropped right after the headers "mid-answer"', async () => {
    const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    const sample = await runAgainst([{ bytes: new Uint8Array(head), then: 'reset' }], streamCase);
    expect(sample.kind).toBe('crash');
    expect(sample.error!.message).toContain('connection lost after the headers, before any body, from replay');
  });

  it('reports a non-JSON 200 body as a protocol error', async () => {
    const sample = await runAgainst([{ bytes: buildResponse(200, { 'Content-Type': 'text/html' }, '<html>oops</html>') }]);
    expect(sample).toMatchObject({ kind: 'protocol-error', error: { message: 'response body is not JSON: <html>oops</html>' } });
  });
});

describe('timeouts and aborts', () => {
  it('times out a server that never answers', async () => {
    const started = performance.now();
    const sample = await runAgainst([{ action: 'hang' }], chatCase, { requestTimeoutMs: 150 });
    expect(sample).toMatchObject({ kind: 'timeout', retries: 0 });
    expect(sample.error!.message).toContain('within 150 ms');
    expect(sample.timings.endMs).toBeGreaterThanOrEqual(140);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('times out a stream that stalls, keeping what came', async () => {
    const bytes = sse([delta('Hel'), delta('lo')]);
    const sample = await runAgainst([{ bytes: bytes.subarray(0, Buffer.from(bytes).indexOf('"lo"')), then: 'hang' }], streamCase, { requestTimeoutMs: 150 });
    expect(sample).toMatchObject({ kind: 'timeout', text: 'Hel' });
    expect(sample.timings.chunkMs).toHaveLength(1);
  });

  it('names the first-byte timeout when headers never come, apart from the total', async () => {
    const sample = await runAgainst([{ action: 'hang' }], chatCase, { requestTimeoutMs: 5_000, firstByteTimeoutMs: 100 });
    expect(sample).toMatchObject({ kind: 'timeout', error: { code: 'first-byte-timeout' } });
    expect(sample.error!.message).toContain('no response headers');
    expect(sample.timings.endMs).toBeLessThan(2_000);
  });

  it('names the idle timeout when a stream goes silent, keeping what came', async () => {
    const bytes = sse([delta('Hel'), delta('lo')]);
    const sample = await runAgainst([{ bytes: bytes.subarray(0, Buffer.from(bytes).indexOf('"lo"')), then: 'hang' }], streamCase, { requestTimeoutMs: 5_000, idleTimeoutMs: 100 });
    expect(sample).toMatchObject({ kind: 'timeout', text: 'Hel', error: { code: 'idle-timeout' } });
    expect(sample.timings.endMs).toBeLessThan(2_000);
  });

  it('waits out a prefill longer than the silence limit: before the first token, only the first-token limit counts', async () => {
    const role = JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
    const bytes = sse([role, delta('Hi'), delta('', 'stop')]);
    // Headers and the role chunk at once, then 1.5 s of "prefill", fifteen times the silence limit (undici's own
    // body timer, which conform used before, ticks coarsely: it let 0.4 s pass, but called 1.5 s "silent mid-answer").
    const at = Buffer.from(bytes).indexOf('data: {"choices":[{"index":0,"delta":{"content":"Hi"');
    const sample = await runAgainst([{ bytes, splitAt: [at - 8], delayMs: 1_500 }], streamCase, { idleTimeoutMs: 100 });
    expect(sample).toMatchObject({ kind: 'ok', text: 'Hi' });
    expect(sample.timings.firstTokenMs).toBeGreaterThanOrEqual(1_450);
  });

  it('names the whole-request limit and how to raise it', async () => {
    const sample = await runAgainst([{ action: 'hang' }], chatCase, { requestTimeoutMs: 150 });
    expect(sample.error).toEqual({ code: 'total-timeout', message: `replay did not finish answering ${server!.baseUrl}/chat/completions within 150 ms (the whole-request limit; raise requestTimeoutMs)` });
  });

  it('gives a long prompt a longer first-token limit, and longer still once the backend has shown a slow prefill', async () => {
    const prompt = (bytes: number): Case => ({ ...streamCase, messages: [{ role: 'user', content: 'x'.repeat(bytes) }] });
    const role = JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
    const bytes = sse([role, delta('Hi'), delta('', 'stop')]);
    const at = Buffer.from(bytes).indexOf('data: {"choices":[{"index":0,"delta":{"content":"Hi"');
    server = await startReplayServer([{ bytes, splitAt: [at - 8], delayMs: 300 }]);
    const runner = createOpenAiHttpRunner({ backend: 'replay', baseUrl: server.baseUrl, model: 'tiny', backendClass: 'cpu' });
    const before = runner.timeoutsFor(prompt(40_000)).firstTokenMs;
    expect(before).toBeGreaterThan(runner.timeoutsFor(prompt(40)).firstTokenMs);
    // 4,000 bytes in 300 ms or more is far slower than cpu's rate; 40,000 may then take up to 100 times as long.
    expect((await runner.run(prompt(4_000))).kind).toBe('ok');
    const after = runner.timeoutsFor(prompt(40_000));
    expect(after.firstTokenMs).toBeGreaterThan(before);
    expect(after.firstTokenMs).toBeGreaterThanOrEqual(60_000 + 3 * 300 * 100);
    expect(after.firstTokenBasis).toContain('the slowest prefill this backend has shown');
  });

  it('stops when the caller aborts, without throwing', async () => {
    server = await startReplayServer([{ action: 'hang' }]);
    const runner = createOpenAiHttpRunner({ backend: 'replay', baseUrl: server.baseUrl, model: 'tiny' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('backend went away')), 50);
    const sample = await runner.run(chatCase, { signal: controller.signal });
    expect(sample.kind).toBe('crash');
    expect(sample.error!.message).toContain('aborted: Error: backend went away');
  });
});

describe('API keys', () => {
  const apiKey = 'sk-test-7f3a9c0e55d14b2a';

  it('sends the key as a Bearer token', async () => {
    await runAgainst([{ bytes: okJson }], chatCase, { apiKey });
    expect(server!.requests[0]!.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('keeps the key out of the Sample when the server echoes it in an error', async () => {
    const echo = buildResponse(401, { 'Content-Type': 'application/json' }, JSON.stringify({ error: { message: `Incorrect API key provided: ${apiKey}`, code: apiKey } }));
    const sample = await runAgainst([{ bytes: echo }], chatCase, { apiKey });
    expect(sample).toMatchObject({ kind: 'http-error', error: { status: 401, message: 'Incorrect API key provided: [REDACTED]' } });
    expect(JSON.stringify(sample)).not.toContain(apiKey);
  });

  it('keeps the key out of the Sample when it comes back in content, stream errors or a plain-text body', async () => {
    const leaky = sse([delta(`key=${apiKey}`), JSON.stringify({ error: { message: `bad key ${apiKey}` } })]);
    const streamed = await runAgainst([{ bytes: leaky }], streamCase, { apiKey });
    expect(streamed.text).toBe('key=[REDACTED]');
    expect(JSON.stringify(streamed)).not.toContain(apiKey);
    await server!.close();
    const plain = await runAgainst([{ bytes: buildResponse(403, {}, `Forbidden for Bearer ${apiKey}`) }], chatCase, { apiKey });
    expect(JSON.stringify(plain)).not.toContain(apiKey);
  });

  it('keeps credentials in the base URL out of messages', async () => {
    server = await startReplayServer([{ action: 'reset' }]);
    const url = server.baseUrl.replace('http://', 'http://user:hunter2@');
    const runner = createOpenAiHttpRunner({ backend: 'replay', baseUrl: url, model: 'tiny', maxRetries: 0 });
    const sample = await runner.run(chatCase);
    expect(sample.kind).toBe('crash');
    expect(JSON.stringify(sample)).not.toContain('hunter2');
  });
});

describe('the caller\'s signal', () => {
  it('takes a dozen requests in flight at once without a MaxListenersExceededWarning, and still stops them', async () => {
    server = await startReplayServer(Array.from({ length: 12 }, () => ({ bytes: okJson })));
    const runner = createOpenAiHttpRunner({ backend: 'replay', baseUrl: server.baseUrl, model: 'tiny', requestTimeoutMs: 5_000 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const samples = await Promise.all(Array.from({ length: 12 }, () => runner.run(chatCase, { signal: controller.signal })));
      expect(samples.map((s) => s.kind)).toEqual(Array(12).fill('ok'));
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      controller.abort();
      const late = await runner.run(chatCase, { signal: controller.signal });
      expect(late.kind).not.toBe('ok');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
