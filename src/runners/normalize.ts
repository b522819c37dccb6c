// Turns OpenAI-compatible response bodies and stream events into Sample fields. Servers differ in
// small ways; each difference is tolerated where the meaning is clear and recorded as a deviation,
// so that a comparator can tell "answered differently" from "answered in a different dialect".

import type { Sample, SampleTimings, TokenStep, ToolCall, TopLogprob } from '../core/types.ts';
import { extend } from '../core/extend.ts';

export type Endpoint = 'chat' | 'completion';

/** The Sample fields a response determines; the runner adds provenance, retries and wall-clock timing. */
export type NormalizedResponse = Pick<Sample, 'kind' | 'text' | 'tokens' | 'toolCalls' | 'finishReason' | 'deviations'> &
  Pick<Sample, 'reasoning' | 'usage' | 'serverTimings' | 'error'>;

export interface StreamFinishOptions {
  /** Text the SSE parser was left holding when the body ended: a non-empty value is an event cut off mid-way. */
  trailing?: string;
}

export interface StreamAccumulator {
  /** Takes one event's data; true when it carried a token (content, reasoning, a tool-call delta or a logprob). */
  onData(data: string, atMs: number): boolean;
  finish(endMs: number, options?: StreamFinishOptions): NormalizedResponse & { timings: SampleTimings };
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The server's own error message and code from an error body, in the shapes real servers use. */
export function serverErrorOf(body: unknown): { message: string; code?: string } | undefined {
  if (!isRecord(body)) return undefined;
  const err = body.error;
  if (isRecord(err)) {
    const message = typeof err.message === 'string' ? err.message : clip(JSON.stringify(err));
    const code = err.code ?? err.type;
    return typeof code === 'string' || typeof code === 'number' ? { message, code: String(code) } : { message };
  }
  if (typeof err === 'string') return { message: err };
  // vLLM and FastAPI-based servers put the message at the top level or under `detail`.
  if (typeof body.message === 'string') return { message: body.message };
  if (body.detail !== undefined) return { message: typeof body.detail === 'string' ? body.detail : clip(JSON.stringify(body.detail)) };
  return undefined;
}

function parseUsage(raw: unknown): Sample['usage'] {
  if (!isRecord(raw) || !isFiniteNumber(raw.prompt_tokens) || !isFiniteNumber(raw.completion_tokens)) return undefined;
  return { promptTokens: raw.prompt_tokens, completionTokens: raw.completion_tokens };
}

function parseServerTimings(raw: unknown): Record<string, number> | undefined {
  if (!isRecord(raw)) return undefined;
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw)) if (isFiniteNumber(value)) out[key] = value;
  return out;
}

function parseTop(raw: unknown, deviations: Set<string>): TopLogprob[] {
  if (!Array.isArray(raw)) return [];
  const out: TopLogprob[] = [];
  for (const alt of raw) {
    // An alternative without a numeric logprob cannot be ranked; dropping it is visible as a deviation.
    if (!isRecord(alt) || typeof alt.token !== 'string' || !isFiniteNumber(alt.logprob)) {
      deviations.add('logprob-not-number');
      continue;
    }
    const top: TopLogprob = { token: alt.token, logprob: alt.logprob };
    if (Number.isInteger(alt.id)) top.id = alt.id as number;
    out.push(top);
  }
  return out;
}

// A token's bytes (llama.cpp, OpenAI): its UTF-8, which may end or begin mid-character, so its text alone cannot say.
function parseBytes(raw: unknown, deviations: Set<string>): number[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw) && raw.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) return raw as number[];
  deviations.add('logprob-bytes-malformed');
  return undefined;
}

function parseLogprobs(raw: unknown, endpoint: Endpoint, deviations: Set<string>): TokenStep[] {
  if (!isRecord(raw)) return [];
  if (Array.isArray(raw.content)) {
    // OpenAI's legacy completions shape differs; llama.cpp answers /completions in the chat shape.
    if (endpoint === 'completion') deviations.add('completion-logprobs-chat-shape');
    const steps: TokenStep[] = [];
    for (const entry of raw.content) {
      if (!isRecord(entry) || typeof entry.token !== 'string') {
        deviations.add('logprob-entry-malformed');
        continue;
      }
      const step: TokenStep = { token: entry.token, top: parseTop(entry.top_logprobs, deviations) };
      if (isFiniteNumber(entry.logprob)) step.logprob = entry.logprob;
      else deviations.add('logprob-not-number');
      if (Number.isInteger(entry.id)) step.id = entry.id as number;
      const bytes = parseBytes(entry.bytes, deviations);
      if (bytes) step.bytes = bytes;
      steps.push(step);
    }
    return steps;
  }
  if (Array.isArray(raw.tokens)) {
    if (endpoint === 'chat') deviations.add('chat-logprobs-completions-shape');
    const lps = Array.isArray(raw.token_logprobs) ? raw.token_logprobs : [];
    const tops = Array.isArray(raw.top_logprobs) ? raw.top_logprobs : [];
    return raw.tokens.map((token, i): TokenStep => {
      const step: TokenStep = { token: String(token), top: [] };
      const lp = lps[i];
      if (isFiniteNumber(lp)) step.logprob = lp;
      const dict = tops[i];
      if (isRecord(dict)) {
        // JSON objects do not keep integer-like keys in order, so rank explicitly.
        step.top = Object.entries(dict)
          .filter((e): e is [string, number] => isFiniteNumber(e[1]))
          .map(([t, l]) => ({ token: t, logprob: l }))
          .sort((a, b) => b.logprob - a.logprob);
      }
      return step;
    });
  }
  return [];
}

function argumentsText(raw: unknown, deviations: Set<string>): string {
  if (typeof raw === 'string') return raw;
  if (raw === undefined || raw === null) return '';
  deviations.add('tool-arguments-not-string');
  return JSON.stringify(raw);
}

function contentText(raw: unknown, deviations: Set<string>): string {
  if (typeof raw === 'string') return raw;
  if (raw === null || raw === undefined) return '';
  deviations.add('content-not-string');
  if (Array.isArray(raw)) return raw.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
  return JSON.stringify(raw);
}

function reasoningText(holder: Json): string | undefined {
  // Some servers send both names for the same text; taking one avoids counting it twice.
  if (typeof holder.reasoning_content === 'string') return holder.reasoning_content;
  if (typeof holder.reasoning === 'string') return holder.reasoning;
  return undefined;
}

function noteToolCallId(id: unknown, deviations: Set<string>): string {
  if (typeof id !== 'string') {
    deviations.add('tool-call-id-missing');
    return '';
  }
  if (id === '') deviations.add('tool-call-id-empty');
  return id;
}

function pickChoice(choices: unknown[]): Json | undefined {
  // conform asks for one choice; index 0 is it even when a server sends more.
  const first = choices.find((c) => isRecord(c) && (c.index === 0 || c.index === undefined));
  return isRecord(first) ? first : undefined;
}

function assemble(
  kind: Sample['kind'],
  parts: { text: string; reasoning?: string; tokens: TokenStep[]; toolCalls: ToolCall[]; finishReason: string | null },
  extras: { usage?: Sample['usage']; serverTimings?: Record<string, number>; error?: Sample['error'] },
  deviations: Set<string>,
): NormalizedResponse {
  const out: NormalizedResponse = { kind, text: parts.text, tokens: parts.tokens, toolCalls: parts.toolCalls, finishReason: parts.finishReason, deviations: [...deviations] };
  if (parts.reasoning !== undefined) out.reasoning = parts.reasoning;
  if (extras.usage) out.usage = extras.usage;
  if (extras.serverTimings) out.serverTimings = extras.serverTimings;
  if (extras.error) out.error = extras.error;
  return out;
}

/** Normalizes a whole (non-streamed) response body, given parsed or as its JSON text. */
export function normalizeCompletion(body: unknown, endpoint: Endpoint): NormalizedResponse {
  const deviations = new Set<string>();
  const empty = { text: '', tokens: [], toolCalls: [], finishReason: null };
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return assemble('protocol-error', empty, { error: { message: `response body is not JSON: ${clip(body)}` } }, deviations);
    }
  }
  if (!isRecord(parsed)) return assemble('protocol-error', empty, { error: { message: 'response body is not a JSON object' } }, deviations);
  const usage = parseUsage(parsed.usage);
  const serverTimings = parseServerTimings(parsed.timings);
  const serverError = parsed.error != null ? serverErrorOf(parsed) : undefined;
  if (serverError) return assemble('protocol-error', empty, { usage, serverTimings, error: serverError }, deviations);
  const choice = Array.isArray(parsed.choices) ? pickChoice(parsed.choices) : undefined;
  if (!choice) return assemble('protocol-error', empty, { usage, serverTimings, error: { message: 'response has no choice with index 0' } }, deviations);

  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  const tokens = parseLogprobs(choice.logprobs, endpoint, deviations);
  if (endpoint === 'completion') {
    const text = contentText(choice.text, deviations);
    return assemble('ok', { text, tokens, toolCalls: [], finishReason }, { usage, serverTimings }, deviations);
  }
  const message = choice.message;
  if (!isRecord(message)) return assemble('protocol-error', { ...empty, finishReason }, { usage, serverTimings, error: { message: 'choice has no message' } }, deviations);
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call, index) => {
      const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
      if (isRecord(call) && call.type !== 'function') deviations.add('tool-call-type-not-function');
      toolCalls.push({
        index,
        id: noteToolCallId(isRecord(call) ? call.id : undefined, deviations),
        name: typeof fn.name === 'string' ? fn.name : '',
        arguments: argumentsText(fn.arguments, deviations),
      });
    });
  } else if (message.tool_calls != null) {
    deviations.add('tool-calls-not-array');
  }
  const parts = { text: contentText(message.content, deviations), reasoning: reasoningText(message), tokens, toolCalls, finishReason };
  return assemble('ok', parts, { usage, serverTimings }, deviations);
}

interface CallSlot {
  serverIndex: number | undefined;
  order: number;
  id: string | undefined;
  name: string;
  args: string;
}

/** Builds one result from a stream's SSE `data` payloads, in arrival order. */
export function createStreamAccumulator(endpoint: Endpoint): StreamAccumulator {
  const deviations = new Set<string>();
  let text = '';
  let reasoning: string | undefined;
  const tokens: TokenStep[] = [];
  const calls: CallSlot[] = [];
  const latestByIndex = new Map<number, CallSlot>();
  let latestCall: CallSlot | undefined;
  let finishReason: string | null = null;
  let usage: Sample['usage'];
  let serverTimings: Record<string, number> | undefined;
  let error: Sample['error'];
  let done = false;
  let firstTokenMs: number | undefined;
  const chunkMs: number[] = [];
  // Tokens per content chunk, from its logprobs; one chunk without them makes the whole split unknown.
  const chunkTokens: number[] = [];
  let chunkTokensKnown = true;
  let lastChunkSteps = 0;

  function fail(err: NonNullable<Sample['error']>): void {
    // The first failure explains the rest; later ones are usually its consequences.
    if (!error) error = err;
  }

  function slotFor(delta: Json): CallSlot {
    const serverIndex = Number.isInteger(delta.index) ? (delta.index as number) : undefined;
    if (serverIndex === undefined) deviations.add('tool-call-index-missing');
    const id = typeof delta.id === 'string' && delta.id !== '' ? delta.id : undefined;
    let slot = id === undefined ? undefined : calls.find((c) => c.id === id);
    if (!slot) {
      const current = serverIndex === undefined ? latestCall : latestByIndex.get(serverIndex);
      const isAnotherCall = current !== undefined && id !== undefined && current.id !== undefined && current.id !== '' && current.id !== id;
      // Some servers number every parallel call 0 and tell them apart only by id.
      if (isAnotherCall && serverIndex !== undefined) deviations.add('parallel-tool-calls-share-index');
      if (current && !isAnotherCall) slot = current;
    }
    if (!slot) {
      slot = { serverIndex, order: calls.length, id: undefined, name: '', args: '' };
      calls.push(slot);
    }
    if (serverIndex !== undefined) latestByIndex.set(serverIndex, slot);
    latestCall = slot;
    return slot;
  }

  function onToolDelta(delta: unknown): void {
    if (!isRecord(delta)) return;
    const slot = slotFor(delta);
    if (typeof delta.id === 'string' && (slot.id === undefined || slot.id === '')) slot.id = delta.id;
    if (delta.type !== undefined && delta.type !== 'function') deviations.add('tool-call-type-not-function');
    const fn = isRecord(delta.function) ? delta.function : {};
    // Names arrive whole in OpenAI's protocol; a repeat of the same name is not a second fragment.
    if (typeof fn.name === 'string' && fn.name !== '' && fn.name !== slot.name) slot.name += fn.name;
    if (fn.arguments !== undefined && fn.arguments !== null) slot.args += argumentsText(fn.arguments, deviations);
  }

  function onChoice(choice: Json): boolean {
    let carriesToken = false;
    if (endpoint === 'chat') {
      let delta = choice.delta;
      if (!isRecord(delta) && isRecord(choice.message)) {
        deviations.add('stream-chunk-message-not-delta');
        delta = choice.message;
      }
      if (isRecord(delta)) {
        const content = contentText(delta.content, deviations);
        if (content !== '') {
          text += content;
          carriesToken = true;
        }
        const thought = reasoningText(delta);
        if (thought !== undefined && thought !== '') {
          reasoning = (reasoning ?? '') + thought;
          carriesToken = true;
        }
        if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) {
          delta.tool_calls.forEach(onToolDelta);
          carriesToken = true;
        }
      }
    } else if (typeof choice.text === 'string' && choice.text !== '') {
      text += choice.text;
      carriesToken = true;
    }
    const steps = parseLogprobs(choice.logprobs, endpoint, deviations);
    // A token whose text is held back (half a UTF-8 character) still arrived; its logprob shows it.
    if (steps.length > 0) carriesToken = true;
    lastChunkSteps = steps.length;
    for (const step of steps) tokens.push(step);
    if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
    return carriesToken;
  }

  return {
    onData(data: string, atMs: number): boolean {
      if (done) {
        deviations.add('data-after-done');
        return false;
      }
      if (data === '[DONE]') {
        done = true;
        return false;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        fail({ message: `stream event is not JSON: ${clip(data)}` });
        return false;
      }
      if (!isRecord(chunk)) {
        fail({ message: `stream event is not a JSON object: ${clip(data)}` });
        return false;
      }
      if (chunk.error != null) {
        fail(serverErrorOf(chunk) ?? { message: 'stream carried an error object' });
        return false;
      }
      const chunkUsage = parseUsage(chunk.usage);
      if (chunkUsage) usage = chunkUsage;
      const timings = parseServerTimings(chunk.timings);
      if (timings) serverTimings = timings;
      const choice = Array.isArray(chunk.choices) ? pickChoice(chunk.choices) : undefined;
      if (!choice || !onChoice(choice)) return false;
      chunkMs.push(atMs);
      firstTokenMs ??= atMs;
      if (lastChunkSteps > 0) chunkTokens.push(lastChunkSteps);
      else chunkTokensKnown = false;
      return true;
    },

    finish(endMs: number, options: StreamFinishOptions = {}) {
      if (options.trailing) fail({ message: `stream ended mid-event: ${clip(options.trailing)}` });
      if (!done) fail({ message: 'stream ended without [DONE]' });
      const ordered = [...calls].sort((a, b) => (a.serverIndex ?? Infinity) - (b.serverIndex ?? Infinity) || a.order - b.order);
      const toolCalls = ordered.map((c, index): ToolCall => ({ index, id: noteToolCallId(c.id, deviations), name: c.name, arguments: c.args }));
      const timings: SampleTimings = { chunkMs, endMs };
      if (firstTokenMs !== undefined) timings.firstTokenMs = firstTokenMs;
      if (chunkTokensKnown && chunkTokens.length > 0) timings.chunkTokens = chunkTokens;
      const parts = { text, reasoning, tokens, toolCalls, finishReason };
      return extend(assemble(error ? 'protocol-error' : 'ok', parts, { usage, serverTimings, error }, deviations), { timings });
    },
  };
}
