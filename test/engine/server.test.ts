// The built-in engine's OpenAI-compatible server, end to end over real HTTP, on CPU with the fixture model.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtureModel } from '../../src/engine/fixture-model/ensure-fixture-model.ts';
import { createLlamaEngine, type LlamaEngine } from '../../src/engine/llama-engine.ts';
import { createEngineServer } from '../../src/engine/server.ts';
import { probeIdentity } from '../../src/runners/probe-identity.ts';

// Response bodies are checked field by field below; a loose type keeps that readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CONTEXT_SIZE = 4096;
const MESSAGES = [{ role: 'user', content: 'Tell me a story about a small robot.' }];
const GREEDY = { messages: MESSAGES, temperature: 0, max_tokens: 24 };
// Logits for the same position differ in the last bits when the prompt cache changes how many tokens
// go into one batch (fresh: the whole prompt; cached: only the last token). Measured: ~1.2e-7.
const LOGPROB_TOLERANCE = 1e-5;

const ajv = new Ajv({ strict: false });

// Enum-bounded strings and integers: a random model never closes an unbounded string.
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: {
        type: 'object',
        properties: { location: { type: 'string', enum: ['Paris', 'Berlin', 'Tokyo'] }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
        required: ['location', 'unit'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'set_alarm',
      description: 'Set an alarm',
      parameters: {
        type: 'object',
        properties: { hour: { type: 'integer' }, label: { type: 'string', enum: ['work', 'gym', 'sleep'] } },
        required: ['hour', 'label'],
      },
    },
  },
] as const;
const toolParameters = new Map<string, object>(TOOLS.map((t) => [t.function.name, t.function.parameters]));

let engine: LlamaEngine | undefined;
let server: Server | undefined;
let base = '';

async function post(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function get(path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.json() };
}

const chat = async (body: Record<string, unknown>) => {
  const res = await post('/v1/chat/completions', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Json;
};

const completion = async (body: Record<string, unknown>) => {
  const res = await post('/v1/completions', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Json;
};

/** Posts a streaming request and returns the raw `data:` payloads, in order, `[DONE]` included. */
async function stream(path: string, body: Record<string, unknown>): Promise<string[]> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  expect(text.endsWith('\n\n')).toBe(true);
  const events = text.slice(0, -2).split('\n\n');
  for (const event of events) expect(event.startsWith('data: ')).toBe(true);
  return events.map((e) => e.slice('data: '.length));
}

/** The JSON chunks of a stream that must end in exactly one `[DONE]`. */
function chunksOf(payloads: string[]): Json[] {
  expect(payloads.at(-1)).toBe('[DONE]');
  expect(payloads.filter((p) => p === '[DONE]')).toHaveLength(1);
  return payloads.slice(0, -1).map((p) => JSON.parse(p) as Json);
}

function expectInvalidRequest(res: { status: number; body: Json }): string {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body).toMatchObject({ error: { message: expect.any(String), type: 'invalid_request_error' } });
  expect(res.body.error.message.length).toBeGreaterThan(0);
  return res.body.error.message as string;
}

function expectLogprobsClose(actual: Json[], expected: Json[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    expect({ id: a.id, token: a.token, bytes: a.bytes }).toEqual({ id: e.id, token: e.token, bytes: e.bytes });
    expect(Math.abs(a.logprob - e.logprob)).toBeLessThan(LOGPROB_TOLERANCE);
    expect(a.top_logprobs.map((t: Json) => t.id)).toEqual(e.top_logprobs.map((t: Json) => t.id));
    a.top_logprobs.forEach((t: Json, j: number) => expect(Math.abs(t.logprob - e.top_logprobs[j].logprob)).toBeLessThan(LOGPROB_TOLERANCE));
  });
}

function expectValidToolCall(call: Json, name?: string): void {
  expect(call).toMatchObject({ id: expect.stringMatching(/^call_/), type: 'function', function: { name: expect.any(String), arguments: expect.any(String) } });
  if (name) expect(call.function.name).toBe(name);
  const schema = toolParameters.get(call.function.name);
  expect(schema, `unknown tool ${call.function.name}`).toBeDefined();
  const validate = ajv.compile(schema!);
  const args = JSON.parse(call.function.arguments as string);
  expect(validate(args), JSON.stringify(validate.errors)).toBe(true);
}

beforeAll(async () => {
  const { path: modelPath } = await ensureFixtureModel(join(REPO, '.cache', 'conform'));
  engine = await createLlamaEngine({ gpu: 'cpu', modelPath, threads: 1, contextSize: CONTEXT_SIZE });
  const created = createEngineServer({ engine, modelName: 'conform-tiny' });
  server = created.server;
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Before markReady: not ready means not ready, for health checks and for work alike.
  const health = await get('/health');
  expect(health).toEqual({ status: 503, body: { status: 'loading' } });
  for (const path of ['/v1/chat/completions', '/v1/completions']) {
    const res = await post(path, path.includes('chat') ? GREEDY : { prompt: 'Hello', max_tokens: 1 });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
  }
  created.markReady();
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
  await engine?.dispose();
});

describe('health and models', () => {
  it('answers /health 200 once ready', async () => {
    expect(await get('/health')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('describes the engine, device and model in /v1/models', async () => {
    const { status, body } = await get('/v1/models');
    expect(status).toBe(200);
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(1);
    const model = body.data[0];
    expect(model).toMatchObject({ id: 'conform-tiny', object: 'model' });
    expect(model.meta).toMatchObject({
      engine: expect.stringContaining('llama.cpp'),
      engine_version: expect.stringMatching(/^node-llama-cpp 3\.21\.1\b/),
      device: expect.any(String),
      gpu: 'cpu',
      model_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      context_size: CONTEXT_SIZE,
    });
    expect(model.meta.device.length).toBeGreaterThan(0);
  });

  it('reports the weights as llama-server does, so probeIdentity fingerprints the model', async () => {
    const { body } = await get('/v1/models');
    // llama-server (b1-80fb11a) reports exactly these for the same GGUF (PEER-NOTES.md; test/peer compares them live).
    expect(body.data[0].meta).toMatchObject({ n_vocab: 900, n_ctx: CONTEXT_SIZE, n_ctx_train: 32768, n_embd: 64, n_params: 222016, size: 888064 });
    const identity = await probeIdentity(`${base}/v1`);
    expect(identity).toMatchObject({ contextSize: CONTEXT_SIZE, modelFingerprint: { vocabSize: 900, parameters: 222016, embeddingWidth: 64, trainedContext: 32768, bytes: 888064 } });
  });
});

describe('request validation', () => {
  it.each([
    ['missing messages', { temperature: 0 }],
    ['empty messages', { messages: [] }],
    ['negative max_tokens', { messages: MESSAGES, max_tokens: -1 }],
    ['top_logprobs above 20', { messages: MESSAGES, logprobs: true, top_logprobs: 21 }],
    ['tool_choice naming a tool not in tools', { messages: MESSAGES, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }],
    ['tool_choice required without tools', { messages: MESSAGES, tool_choice: 'required' }],
  ])('rejects %s with an OpenAI-shaped 400', async (_name, body) => {
    expectInvalidRequest(await post('/v1/chat/completions', body));
  });

  it('rejects a body that is not JSON', async () => {
    const message = expectInvalidRequest(await post('/v1/chat/completions', '{"messages": ['));
    expect(message).toMatch(/JSON/);
  });

  it('refuses a prompt longer than the context instead of truncating it', async () => {
    const long = 'The capital of France is Paris. '.repeat(860); // ~6000 tokens: corpus words are whole tokens
    const message = expectInvalidRequest(await post('/v1/chat/completions', { messages: [{ role: 'user', content: long }], max_tokens: 1 }));
    expect(message).toMatch(/refused/);
    expect(message).toMatch(/truncat/);
    const tokens = Number(/(\d+) tokens/.exec(message)?.[1]);
    expect(tokens).toBeGreaterThan(5000);
    expect(tokens).toBeLessThan(8000);
    // The server is still fine afterwards.
    expect((await chat({ ...GREEDY, max_tokens: 2 })).choices[0].finish_reason).toBe('length');
  });

  it('answers 404 for an unknown route', async () => {
    const res = await get('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });
  });
});

describe('greedy chat', () => {
  it('returns 20 sorted alternatives per token, the chosen one first, and counts them in usage', async () => {
    const body = await chat({ ...GREEDY, logprobs: true, top_logprobs: 20 });
    expect(body.object).toBe('chat.completion');
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('length');
    expect(typeof choice.message.content).toBe('string');
    const entries: Json[] = choice.logprobs.content;
    expect(entries).toHaveLength(24);
    expect(body.usage.completion_tokens).toBe(entries.length);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(Number.isInteger(entry.id)).toBe(true);
      expect(entry.top_logprobs).toHaveLength(20);
      for (const alt of entry.top_logprobs) expect(Number.isInteger(alt.id)).toBe(true);
      const logprobs = entry.top_logprobs.map((t: Json) => t.logprob as number);
      expect(logprobs).toEqual([...logprobs].sort((a, b) => b - a));
      expect(new Set(entry.top_logprobs.map((t: Json) => t.id)).size).toBe(20);
      // At temperature 0 the chosen token is the argmax.
      expect(entry.top_logprobs[0]).toMatchObject({ id: entry.id, token: entry.token, logprob: entry.logprob });
      expect(entry.logprob).toBeLessThanOrEqual(0);
    }
    expect(entries.map((e) => e.token).join('')).toBe(choice.message.content);
  });

  it('gives the same answer to the same request', async () => {
    const a = await chat({ ...GREEDY, logprobs: true, top_logprobs: 5 });
    const b = await chat({ ...GREEDY, logprobs: true, top_logprobs: 5 });
    expect(b.choices[0].message).toEqual(a.choices[0].message);
    expect(b.choices[0].finish_reason).toBe(a.choices[0].finish_reason);
    expect(b.usage).toEqual(a.usage);
    // Ids and text are exact; logprobs only to LOGPROB_TOLERANCE (prompt-cache batching, see the top of the file).
    expectLogprobsClose(b.choices[0].logprobs.content, a.choices[0].logprobs.content);
  });
});

describe('streaming chat', () => {
  it('streams role, content, finish reason, usage and [DONE], matching the non-streamed answer', async () => {
    const request = { ...GREEDY, logprobs: true, top_logprobs: 3 };
    const whole = await chat(request);
    const chunks = chunksOf(await stream('/v1/chat/completions', { ...request, stream_options: { include_usage: true } }));

    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.id).toBe(chunks[0].id);
      expect(chunk.model).toBe('conform-tiny');
    }
    const [first, ...rest] = chunks;
    // Role only: content, if present, is empty.
    expect(first.choices).toHaveLength(1);
    expect(first.choices[0].delta.role).toBe('assistant');
    expect(first.choices[0].delta.content ?? '').toBe('');
    expect(first.choices[0].finish_reason).toBeNull();

    const usageChunk = rest.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(whole.usage);

    const finalChunk = rest.at(-2);
    expect(finalChunk.choices).toHaveLength(1);
    expect(finalChunk.choices[0].finish_reason).toBe('length');
    expect(finalChunk.choices[0].delta.content ?? '').toBe('');

    const content = rest.slice(0, -2);
    expect(content.length).toBeGreaterThan(0);
    for (const chunk of content) {
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.choices[0].finish_reason).toBeNull();
      expect(typeof chunk.choices[0].delta.content).toBe('string');
      expect(chunk.choices[0].delta.role).toBeUndefined();
    }
    expect(content.map((c) => c.choices[0].delta.content).join('')).toBe(whole.choices[0].message.content);
    const streamedLogprobs = content.flatMap((c) => c.choices[0].logprobs?.content ?? []);
    expectLogprobsClose(streamedLogprobs, whole.choices[0].logprobs.content);
  });

  it('sends no usage chunk unless asked', async () => {
    const chunks = chunksOf(await stream('/v1/chat/completions', { ...GREEDY, max_tokens: 4 }));
    expect(chunks.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
  });
});

describe('completions endpoint', () => {
  const request = { prompt: 'The quick brown fox', temperature: 0, max_tokens: 16, logprobs: 5 };

  it('returns text with the legacy logprobs shape', async () => {
    const body = await completion(request);
    expect(body.object).toBe('text_completion');
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('length');
    expect(typeof choice.text).toBe('string');
    expect(choice.text.length).toBeGreaterThan(0);
    const { tokens, token_logprobs, top_logprobs, text_offset } = choice.logprobs;
    expect(tokens).toHaveLength(16);
    expect(token_logprobs).toHaveLength(16);
    expect(top_logprobs).toHaveLength(16);
    expect(text_offset).toHaveLength(16);
    expect(body.usage.completion_tokens).toBe(16);
    expect((tokens as string[]).join('')).toBe(choice.text);
    let offset = 0;
    (tokens as string[]).forEach((token, i) => {
      expect(text_offset[i]).toBe(offset);
      offset += token.length;
      expect(typeof token_logprobs[i]).toBe('number');
      const alternatives = top_logprobs[i] as Record<string, number>;
      expect(typeof alternatives).toBe('object');
      expect(Array.isArray(alternatives)).toBe(false);
      const entries = Object.entries(alternatives);
      // Keyed by token text, so alternatives that decode alike collapse: at most 5.
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.length).toBeLessThanOrEqual(5);
      // Greedy: the chosen token is the best alternative, with the same logprob.
      const best = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
      expect(best).toEqual([token, token_logprobs[i]]);
    });
  });

  it('streams chunks that concatenate to the same text', async () => {
    const whole = await completion(request);
    const chunks = chunksOf(await stream('/v1/completions', request));
    for (const chunk of chunks) expect(chunk.object).toBe('text_completion');
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe(whole.choices[0].text);
    const tokens = chunks.flatMap((c) => c.choices[0].logprobs?.tokens ?? []);
    const offsets = chunks.flatMap((c) => c.choices[0].logprobs?.text_offset ?? []);
    expect(tokens).toEqual(whole.choices[0].logprobs.tokens);
    expect(offsets).toEqual(whole.choices[0].logprobs.text_offset);
  });
});

describe('tool calls', () => {
  const named = { messages: MESSAGES, temperature: 0, max_tokens: 200, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'set_alarm' } } };

  it('honours a named tool_choice', async () => {
    const body = await chat(named);
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expectValidToolCall(choice.message.tool_calls[0], 'set_alarm');
  });

  it('streams a named tool call that reassembles to the same call', async () => {
    const whole = await chat(named);
    const chunks = chunksOf(await stream('/v1/chat/completions', named));
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
    const calls: Array<{ id: string; type: string; name: string; arguments: string }> = [];
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
        expect(Number.isInteger(delta.index)).toBe(true);
        const call = (calls[delta.index] ??= { id: '', type: '', name: '', arguments: '' });
        call.id += delta.id ?? '';
        call.type = delta.type ?? call.type;
        call.name += delta.function?.name ?? '';
        call.arguments += delta.function?.arguments ?? '';
      }
      expect(chunk.choices[0]?.delta?.content ?? '').toBe('');
    }
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expectValidToolCall({ id: call.id, type: call.type, function: { name: call.name, arguments: call.arguments } }, 'set_alarm');
    const expected = whole.choices[0].message.tool_calls[0];
    expect({ name: call.name, arguments: call.arguments }).toEqual({ name: expected.function.name, arguments: expected.function.arguments });
  });

  it('returns at least one valid call for tool_choice required with parallel calls', async () => {
    const body = await chat({ messages: MESSAGES, temperature: 0, max_tokens: 300, tools: TOOLS, tool_choice: 'required', parallel_tool_calls: true });
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls.length).toBeGreaterThanOrEqual(1);
    expect(choice.message.tool_calls.length).toBeLessThanOrEqual(TOOLS.length);
    for (const call of choice.message.tool_calls) expectValidToolCall(call);
    expect(new Set(choice.message.tool_calls.map((c: Json) => c.id)).size).toBe(choice.message.tool_calls.length);
  });
});

describe('response_format json_schema', () => {
  it('answers with JSON that validates and stops when it closes', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', enum: ['Alice', 'Bob'] }, age: { type: 'integer' }, ok: { type: 'boolean' } },
      required: ['name', 'age', 'ok'],
    };
    const body = await chat({ messages: MESSAGES, temperature: 0, max_tokens: 200, response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.tool_calls).toBeUndefined();
    const validate = ajv.compile(schema);
    const parsed = JSON.parse(choice.message.content as string);
    expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    expect(body.usage.completion_tokens).toBeLessThan(200);
  });
});

describe('stop strings', () => {
  it('cuts the output before a stop string taken from the greedy answer', async () => {
    const request = { ...GREEDY, logprobs: true, top_logprobs: 1 };
    const free = (await chat(request)).choices[0];
    const text = free.message.content as string;
    expect(text.length).toBeGreaterThan(20);
    const stop = text.slice(10, 16);
    const expected = text.slice(0, text.indexOf(stop));

    const stopped = await chat({ ...request, stop });
    expect(stopped.choices[0].message.content).toBe(expected);
    expect(stopped.choices[0].finish_reason).toBe('stop');
    // Usage and logprobs cover only tokens wholly before the stop string.
    expect(stopped.usage.completion_tokens).toBe(stopped.choices[0].logprobs.content.length);
    expect(stopped.usage.completion_tokens).toBeLessThan(free.logprobs.content.length);

    const asList = await chat({ ...request, stop: ['\u0001never', stop] });
    expect(asList.choices[0].message.content).toBe(expected);

    const chunks = chunksOf(await stream('/v1/chat/completions', { ...request, stop }));
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(expected);
    // The token that completed the stop string is in neither the streamed nor the non-streamed logprobs.
    expect(chunks.flatMap((c) => c.choices[0].logprobs?.content ?? [])).toHaveLength(stopped.usage.completion_tokens);
  });

  it('streams text held back as a possible stop-string start once generation ends', async () => {
    const text = (await chat(GREEDY)).choices[0].message.content as string;
    // A stop string that starts like the answer's last character but never completes: that character is held back.
    const stop = `${text.slice(-1)}\u0001never`;
    const whole = await chat({ ...GREEDY, stop });
    expect(whole.choices[0].message.content).toBe(text);
    expect(whole.choices[0].finish_reason).toBe('length');
    const chunks = chunksOf(await stream('/v1/chat/completions', { ...GREEDY, stop }));
    const streamed = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    expect(streamed).toBe(text);
  });
});

describe('seeded sampling', () => {
  const sampled = async (seed: number) =>
    (await chat({ messages: MESSAGES, temperature: 1, seed, max_tokens: 16 })).choices[0].message.content as string;

  it('repeats with the same seed and varies across seeds', async () => {
    const first = await sampled(1);
    expect(await sampled(1)).toBe(first);
    const texts = [first, await sampled(2), await sampled(3)];
    expect(new Set(texts).size).toBeGreaterThanOrEqual(2);
  });
});
