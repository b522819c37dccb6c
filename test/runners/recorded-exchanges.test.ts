import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/types.ts';
import { normalizeCompletion } from '../../src/runners/normalize.ts';
import { contentOf } from './support/content-of.ts';
import { normalizeSseBytes } from './support/normalize-sse-bytes.ts';
import { FIXTURE_ROOT, loadRecordedExchange, type RecordedExchange } from './support/recorded-exchange.ts';
import { caseOf, replayExchange } from './support/replay-exchange.ts';

const DIRS = ['cpu', 'vulkan'] as const;
type Dir = (typeof DIRS)[number];
const NAMES = readdirSync(`${FIXTURE_ROOT}cpu`)
  .filter((f) => f.endsWith('.request.json'))
  .map((f) => f.replace('.request.json', ''))
  .sort();
const ALL = DIRS.flatMap((dir) => NAMES.map((name) => [dir, name] as const));

const exchanges = new Map<string, RecordedExchange>();
const samples = new Map<string, Sample>();
const sent = new Map<string, string | undefined>();
const key = (dir: Dir, name: string): string => `${dir}/${name}`;
const sample = (dir: Dir, name: string): Sample => samples.get(key(dir, name))!;

beforeAll(async () => {
  for (const [dir, name] of ALL) {
    const exchange = loadRecordedExchange(dir, name);
    const { sample: s, request } = await replayExchange(exchange);
    exchanges.set(key(dir, name), exchange);
    samples.set(key(dir, name), s);
    sent.set(key(dir, name), request?.body);
  }
});

describe('every recorded exchange, through the runner', () => {
  it('covers both backends and all 21 POSTed requests', () => {
    const vulkanNames = readdirSync(`${FIXTURE_ROOT}vulkan`).filter((f) => f.endsWith('.request.json'));
    expect(vulkanNames.map((f) => f.replace('.request.json', '')).sort()).toEqual(NAMES);
    expect(NAMES).toHaveLength(21);
    expect(samples.size).toBe(42);
  });

  it.each(ALL)('%s/%s: the runner agrees with normalizing the payload directly', (dir, name) => {
    const exchange = exchanges.get(key(dir, name))!;
    const s = sample(dir, name);
    if (exchange.status !== 200) {
      expect(s.kind).toBe('http-error');
      expect(s.error?.status).toBe(exchange.status);
      return;
    }
    const endpoint = caseOf(exchange).endpoint as 'chat' | 'completion';
    const direct = exchange.headers['content-type']?.startsWith('text/event-stream')
      ? normalizeSseBytes([exchange.payload], endpoint)
      : normalizeCompletion(Buffer.from(exchange.payload).toString('utf8'), endpoint);
    expect(contentOf(s)).toEqual(contentOf(direct));
    expect(s.kind).toBe('ok');
  });

  it.each(ALL.filter(([, name]) => name !== 'error-bad-json'))('%s/%s: the runner sends the recorded request', (dir, name) => {
    const recorded = JSON.parse(exchanges.get(key(dir, name))!.requestText!) as Record<string, unknown>;
    const expected = recorded.stream === true ? { ...recorded, stream_options: { include_usage: true } } : recorded;
    expect(JSON.parse(sent.get(key(dir, name))!)).toEqual(expected);
  });

  it.each(ALL)('%s/%s: timings are ordered and in the runner’s clock', (dir, name) => {
    const { timings, streamed, startedAt } = sample(dir, name);
    expect(Number.isNaN(Date.parse(startedAt))).toBe(false);
    expect(timings.firstByteMs).toBeGreaterThanOrEqual(0);
    expect(timings.endMs).toBeGreaterThanOrEqual(timings.firstByteMs!);
    if (timings.firstTokenMs !== undefined) expect(timings.firstTokenMs).toBe(timings.chunkMs[0]);
    expect([...timings.chunkMs].sort((a, b) => a - b)).toEqual(timings.chunkMs);
    expect(streamed).toBe(name.includes('stream'));
  });
});

describe('concrete values from the recordings', () => {
  it.each(DIRS)('%s chat-basic: greedy text, usage, finish reason and llama.cpp timings', (dir) => {
    const s = sample(dir, 'chat-basic');
    expect(s).toMatchObject({
      kind: 'ok',
      text: " осіб wet}'MethodFill trib trenuerte springPFBu ору",
      tokens: [],
      toolCalls: [],
      finishReason: 'length',
      usage: { promptTokens: 31, completionTokens: 12 },
      deviations: [],
      retries: 0,
      streamed: false,
    });
    expect(s.serverTimings).toMatchObject(
      dir === 'cpu' ? { prompt_n: 31, prompt_ms: 1.855, predicted_n: 12, predicted_ms: 18.912 } : { prompt_n: 21, prompt_ms: 35.408, predicted_n: 12, predicted_ms: 320.749 },
    );
    expect(Object.keys(s.serverTimings!)).toHaveLength(8);
  });

  it('cpu chat-logprobs: token ids, logprobs and five alternatives per step', () => {
    const s = sample('cpu', 'chat-logprobs');
    expect(s.tokens).toHaveLength(32);
    expect(s.tokens[0]).toEqual({
      token: ' осіб',
      logprob: -0.8805454969406128,
      id: 13040,
      bytes: [...Buffer.from(' осіб', 'utf8')],
      top: [
        { token: ' осіб', logprob: -0.8805454969406128, id: 13040 },
        { token: ' dozen', logprob: -2.1874911785125732, id: 24231 },
        { token: 'uerte', logprob: -3.2296483516693115, id: 18174 },
        { token: ' ``', logprob: -3.427755355834961, id: 4954 },
        { token: ' sched', logprob: -3.6241960525512695, id: 28598 },
      ],
    });
    expect(s.tokens.every((t) => t.top.length === 5)).toBe(true);
    expect(s.tokens.map((t) => t.token).join('')).toBe(s.text);
  });

  it('chat-logprobs: CPU and Vulkan agree for 14 tokens, then part at the near-tie the README describes', () => {
    const cpu = sample('cpu', 'chat-logprobs').tokens;
    const vk = sample('vulkan', 'chat-logprobs').tokens;
    const firstDiff = cpu.findIndex((t, i) => t.id !== vk[i]?.id);
    expect(firstDiff).toBe(14);
    expect(cpu[14]).toMatchObject({ token: ' wurde', id: 1931 });
    expect(cpu[14]!.logprob).toBeCloseTo(-1.916, 3);
    expect(cpu[14]!.top[1]).toMatchObject({ token: 'worth' });
    expect(cpu[14]!.top[1]!.logprob).toBeCloseTo(-2.023, 3);
    expect(vk[14]).toMatchObject({ token: 'worth', id: 12554 });
    expect(vk[14]!.logprob).toBeCloseTo(-2.007, 3);
    expect(vk[14]!.top[1]).toMatchObject({ token: ' wurde' });
    expect(vk[14]!.top[1]!.logprob).toBeCloseTo(-2.06, 2);
    const worst = Math.max(...cpu.slice(0, 14).map((t, i) => Math.abs(t.logprob! - vk[i]!.logprob!)));
    expect(worst).toBeCloseTo(0.099, 3);
  });

  it('chat-logprobs-long: the silently-long prompt parts CPU from Vulkan at token 6, a near-tie', () => {
    const cpu = sample('cpu', 'chat-logprobs-long');
    const vk = sample('vulkan', 'chat-logprobs-long');
    expect(cpu.usage).toEqual({ promptTokens: 3628, completionTokens: 32 });
    expect(cpu.tokens.findIndex((t, i) => t.id !== vk.tokens[i]?.id)).toBe(6);
    expect([cpu.tokens[6]!.token, vk.tokens[6]!.token]).toEqual([' mascul', ' anglès']);
    const gapOnCpu = cpu.tokens[6]!.logprob! - cpu.tokens[6]!.top.find((t) => t.id === vk.tokens[6]!.id)!.logprob;
    expect(gapOnCpu).toBeGreaterThan(0);
    expect(gapOnCpu).toBeLessThan(0.1);
  });

  it.each(DIRS)('%s completions-logprobs: llama.cpp answers /completions with chat-shaped logprobs', (dir) => {
    const s = sample(dir, 'completions-logprobs');
    const ids = { cpu: [2378, 26750, 26676, 20660, 6449, 15201, 10108, 15360], vulkan: [2378, 23346, 30329, 1363, 18372, 28448, 24749, 28797] }[dir];
    expect(s.text).toBe(dir === 'cpu' ? 'array MAC Mitchell distinguished proced affectedLevelsudo' : 'array gender山 because Six щentlicht Scroll');
    expect(s.tokens.map((t) => t.id)).toEqual(ids);
    expect(s.tokens.every((t) => t.top.length === 3)).toBe(true);
    expect(s.deviations).toEqual(['completion-logprobs-chat-shape']);
    expect(s.usage).toEqual({ promptTokens: 5, completionTokens: 8 });
  });

  it.each(DIRS)('%s chat-tools-required / -parallel: one call, with an empty id', (dir) => {
    const city = { cpu: 'Lima', vulkan: 'Tokyo' }[dir];
    expect(sample(dir, 'chat-tools-parallel')).toMatchObject({
      kind: 'ok',
      text: '',
      finishReason: 'tool_calls',
      toolCalls: [{ index: 0, id: '', name: 'get_weather', arguments: `{"city":"${city}","days":3}` }],
      usage: { promptTokens: 491 },
      deviations: ['tool-call-id-empty'],
    });
    expect(sample(dir, 'chat-tools-required')).toMatchObject({
      toolCalls: [{ index: 0, id: '', name: 'get_weather', arguments: '{"city":"Lima","days":3}' }],
      usage: { promptTokens: 359, completionTokens: 54 },
      deviations: ['tool-call-id-empty'],
    });
    expect(JSON.parse(sample(dir, 'chat-tools-required').toolCalls[0]!.arguments)).toEqual({ city: 'Lima', days: 3 });
  });

  it('chat-tools-named: the named tool is ignored; text comes back instead of a call', () => {
    const cpu = sample('cpu', 'chat-tools-named');
    expect(cpu).toMatchObject({ kind: 'ok', toolCalls: [], finishReason: 'length', usage: { promptTokens: 491, completionTokens: 64 } });
    expect(cpu.text.startsWith('{"response":" compatibleLock gladith')).toBe(true);
    // Vulkan ignores the name too, but stops early with plain text: the two backends disagree on the quirk itself.
    const vk = sample('vulkan', 'chat-tools-named');
    expect(vk).toMatchObject({ kind: 'ok', toolCalls: [], finishReason: 'stop', text: ' begins alco jú Tra peoplefox highest SquadTOMagIdsців {' });
    expect(vk.usage).toEqual({ promptTokens: 491, completionTokens: 21 });
  });

  it.each(DIRS)('%s: client mistakes come back as 500 http-errors with the server’s message', (dir) => {
    const expectError = (name: string, start: string): void => {
      const s = sample(dir, name);
      expect(s).toMatchObject({ kind: 'http-error', text: '', tokens: [], toolCalls: [], finishReason: null, error: { status: 500, code: '500' } });
      expect(s.error!.message.startsWith(start)).toBe(true);
      expect(s.usage).toBeUndefined();
    };
    expectError('chat-tools-no-description', "Failed to parse tools: [json.exception.out_of_range.403] key 'description' not found");
    expectError('chat-tools-required-stream', 'Cannot use tools with stream');
    expectError('error-bad-json', '[json.exception.parse_error.101] parse error at line 2, column 1');
    expectError('error-no-messages', "[json.exception.out_of_range.403] key 'messages' not found");
    expect(sample(dir, 'chat-tools-required-stream').streamed).toBe(true);
  });

  it.each(DIRS)('%s: accepted oddities are answers, not errors', (dir) => {
    expect(sample(dir, 'error-context-overflow')).toMatchObject({ kind: 'ok', usage: { promptTokens: 3884, completionTokens: 4 }, finishReason: 'length' });
    expect(sample(dir, 'error-negative-max-tokens')).toMatchObject({ kind: 'ok', text: dir === 'cpu' ? ' dozen' : ' осіб', usage: { completionTokens: 1 } });
    expect(sample(dir, 'chat-seed-sampling-a').text).toBe(sample(dir, 'chat-seed-sampling-b').text);
  });

  it.each(DIRS)('%s chat-stream: twelve timed content events, usage and timings from the last chunk', (dir) => {
    const s = sample(dir, 'chat-stream');
    expect(s).toMatchObject({ kind: 'ok', streamed: true, finishReason: 'length', usage: { promptTokens: 31, completionTokens: 12 }, deviations: [] });
    expect(s.timings.chunkMs).toHaveLength(12);
    expect(s.timings.firstTokenMs).toBeGreaterThanOrEqual(s.timings.firstByteMs!);
    expect(s.serverTimings).toMatchObject(dir === 'cpu' ? { prompt_n: 21, predicted_ms: 3908.192 } : { prompt_n: 21, predicted_ms: 335.954 });
  });

  it.each(DIRS)('%s chat-stream-usage-logprobs: streamed logprobs reassemble in order', (dir) => {
    const s = sample(dir, 'chat-stream-usage-logprobs');
    const ids = {
      cpu: [13040, 7990, 10162, 4062, 20876, 9434, 20639, 18174, 6709, 13691, 3727, 28659],
      vulkan: [13040, 7990, 10162, 4062, 6920, 5852, 469, 28209, 29260, 21624, 24207, 1152],
    }[dir];
    expect(s.tokens.map((t) => t.id)).toEqual(ids);
    expect(s.tokens.every((t) => t.top.length === 3)).toBe(true);
    expect(s.tokens.map((t) => t.token).join('')).toBe(s.text);
    // Each token's bytes are its text in UTF-8, and each content event held one token.
    expect(s.tokens.map((t) => Buffer.from(t.bytes!).toString('utf8'))).toEqual(s.tokens.map((t) => t.token));
    expect(s.timings.chunkTokens).toEqual(new Array(12).fill(1));
    if (dir === 'cpu') {
      expect(s.tokens[11]).toEqual({
        token: ' ору',
        logprob: -1.1434580087661743,
        id: 28659,
        bytes: [32, 208, 190, 209, 128, 209, 131],
        top: [
          { token: ' ору', logprob: -1.1434580087661743, id: 28659 },
          { token: ' minus', logprob: -3.165816068649292, id: 26134 },
          { token: 'ctions', logprob: -3.8109424114227295, id: 1953 },
        ],
      });
    }
  });

  it.each(DIRS)('%s completions-stream: eight timed text events; the empty final one is not a token', (dir) => {
    const s = sample(dir, 'completions-stream');
    expect(s.text).toBe(sample(dir, 'completions-logprobs').text);
    expect(s.timings.chunkMs).toHaveLength(8);
    expect(s).toMatchObject({ finishReason: 'length', usage: { promptTokens: 5, completionTokens: 8 }, deviations: [] });
  });
});

describe('streamed and non-streamed answers to the same request', () => {
  it('cpu: chat-stream and chat-basic agree on everything but timing and server timings', () => {
    const streamed = contentOf(sample('cpu', 'chat-stream'));
    const whole = contentOf(sample('cpu', 'chat-basic'));
    expect({ ...streamed, serverTimings: undefined }).toEqual({ ...whole, serverTimings: undefined });
  });

  it('cpu: the streamed logprobs equal the first 12 steps of chat-logprobs, top-3 within top-5', () => {
    const streamed = sample('cpu', 'chat-stream-usage-logprobs').tokens;
    const whole = sample('cpu', 'chat-logprobs').tokens.slice(0, 12);
    expect(streamed).toEqual(whole.map((t) => ({ ...t, top: t.top.slice(0, 3) })));
  });

  it.each(DIRS)('%s: completions-stream and completions-logprobs give the same text', (dir) => {
    expect(sample(dir, 'completions-stream').text).toBe(sample(dir, 'completions-logprobs').text);
  });

  it('vulkan: the recordings themselves part after 4 tokens, so only that prefix can agree', () => {
    const streamed = sample('vulkan', 'chat-stream-usage-logprobs').tokens;
    const whole = sample('vulkan', 'chat-logprobs').tokens;
    expect(streamed.findIndex((t, i) => t.id !== whole[i]?.id)).toBe(4);
    expect(sample('vulkan', 'chat-stream').text.startsWith(" осіб wet}'Method")).toBe(true);
    expect(sample('vulkan', 'chat-basic').text).toBe(sample('cpu', 'chat-basic').text);
    expect(sample('vulkan', 'chat-stream').text).not.toBe(sample('vulkan', 'chat-basic').text);
  });
});

describe('the recordings’ framing', () => {
  it('declares chunked transfer coding on streams but records the body without chunk framing', () => {
    for (const dir of DIRS) {
      for (const name of ['chat-stream', 'chat-stream-usage-logprobs', 'completions-stream']) {
        const exchange = exchanges.get(key(dir, name))!;
        expect(exchange.declaredChunked).toBe(true);
        expect(exchange.framed).toBe(false);
      }
    }
  });

  it('replayed verbatim, such a recording is a malformed HTTP response: the runner says so and does not throw', async () => {
    const exchange = exchanges.get(key('cpu', 'chat-stream'))!;
    const { sample: s } = await replayExchange(exchange, { bytes: exchange.file, then: 'end' });
    expect(s.kind).toBe('protocol-error');
    expect(s.error?.code).toBe('HPE_INVALID_CHUNK_SIZE');
  });
});
