import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Token } from 'node-llama-cpp';
import { createChatTokenizer, type IncomingMessage as ChatMessageIn } from './chat-prompt.ts';
import { createEngineMetrics, type RequestMetrics } from './engine-metrics.ts';
import type { GeneratedToken, GenerateRequest, GenerateResult, LlamaEngine } from './llama-engine.ts';
import { chatLogprob, completionLogprobs, errorBody, toolCallsFromText, usageOf } from './openai-shapes.ts';
import { outputConstraint } from './output-grammar.ts';
import { requestProblem } from './request-schema.ts';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_TOKENS = 256;

export interface EngineServerOptions {
  engine: LlamaEngine;
  modelName: string;
  /** The sha256 of the weights the model was quantized from, when conform serve derived it (--weights); /v1/models says so. */
  derivedFromSha256?: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error') {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

interface ParsedRequest {
  body: Record<string, any>;
  generate: GenerateRequest;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * The built-in engine as an OpenAI-compatible server: what `conform serve` runs. It answers
 * /health with 503 until the model has produced a real token, so "ready" means ready.
 */
export function createEngineServer({ engine, modelName, derivedFromSha256 }: EngineServerOptions): { server: Server; markReady(): void } {
  let ready = false;
  let counter = 0;
  const tokenizeChat = createChatTokenizer(engine.model);
  const created = Math.floor(Date.now() / 1000);
  const fingerprint = `conform-${engine.identity.gpu}`;
  const weights = weightsMeta(engine);
  const metrics = createEngineMetrics(engine.contextSize);

  function parse(endpoint: 'chat' | 'completion', body: unknown, signal: AbortSignal): ParsedRequest {
    const problem = requestProblem(endpoint, body);
    if (problem) throw new HttpError(400, problem);
    const b = body as Record<string, any>;
    const prompt: Token[] = endpoint === 'chat' ? tokenizeChat(b.messages as ChatMessageIn[], b.tools) : engine.model.tokenize(b.prompt as string, false);
    if (endpoint === 'completion' && engine.model.tokens.bos !== null && engine.model.tokens.shouldPrependBosToken) prompt.unshift(engine.model.tokens.bos);
    if (prompt.length >= engine.contextSize)
      throw new HttpError(400, `the prompt is ${prompt.length} tokens, more than this server's context of ${engine.contextSize}; it is refused rather than silently truncated`);
    const topLogprobs = endpoint === 'chat' ? (b.logprobs ? (b.top_logprobs ?? 0) : -1) : (b.logprobs ?? -1);
    return {
      body: b,
      stream: b.stream === true,
      includeUsage: b.stream_options?.include_usage === true,
      generate: {
        prompt,
        maxTokens: b.max_completion_tokens ?? b.max_tokens ?? DEFAULT_MAX_TOKENS,
        temperature: b.temperature ?? 1,
        seed: b.seed,
        topLogprobs: Math.max(topLogprobs, 0),
        // An empty stop string would end every answer at once; it is ignored, as OpenAI does.
        stop: (typeof b.stop === 'string' ? [b.stop] : (b.stop ?? [])).filter((x: string) => x.length > 0),
        constraint: endpoint === 'chat' ? outputConstraint(b) : undefined,
        signal,
      },
    };
  }

  async function complete(endpoint: 'chat' | 'completion', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const observed = metrics.request();
    try {
      await answer(endpoint, req, res, observed);
    } finally {
      observed.done();
    }
  }

  async function answer(endpoint: 'chat' | 'completion', req: IncomingMessage, res: ServerResponse, observed: RequestMetrics): Promise<void> {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const parsed = parse(endpoint, await readJson(req), abort.signal);
    parsed.generate.onStart = () => observed.started(parsed.generate.prompt.length);
    const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${(++counter).toString(36)}`;
    const wantLogprobs = endpoint === 'chat' ? parsed.body.logprobs === true : parsed.body.logprobs != null;
    const base = { id, created, model: modelName, system_fingerprint: fingerprint };
    const isToolCall = parsed.generate.constraint?.toolCalls !== undefined && parsed.generate.constraint.toolCalls !== 'none';
    if (!parsed.stream) {
      const result = await engine.generate(parsed.generate, (_delta, token) => {
        if (token) observed.token();
      });
      sendJson(res, 200, endpoint === 'chat' ? chatBody(base, result, wantLogprobs, isToolCall) : completionBody(base, result, wantLogprobs));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const object = endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    if (endpoint === 'chat') send({ ...base, object, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
    let offset = 0;
    const onDelta = (delta: string, token: GeneratedToken | undefined) => {
      if (token) observed.token();
      if (isToolCall) return; // tool calls are sent whole once the grammar closes them
      if (delta !== '') observed.firstStreamedToken();
      const logprobs = wantLogprobs && token ? (endpoint === 'chat' ? { content: [chatLogprob(token)] } : completionLogprobs([token], offset)) : null;
      offset += token?.text.length ?? 0;
      const choice = endpoint === 'chat' ? { index: 0, delta: { content: delta }, logprobs, finish_reason: null } : { index: 0, text: delta, logprobs, finish_reason: null };
      send({ ...base, object, choices: [choice] });
    };
    try {
      const result = await engine.generate(parsed.generate, onDelta);
      if (isToolCall) {
        if (result.text) observed.firstStreamedToken();
        // The grammar's tokens go with the first chunk, so streamed and non-streamed answers carry the same logprobs.
        const logprobs = wantLogprobs ? { content: result.tokens.map(chatLogprob) } : null;
        if (result.finishReason === 'tool_calls') {
          const calls = toolCallsFromText(result.text);
          calls.forEach((call, index) => send({ ...base, object, choices: [{ index: 0, delta: { tool_calls: [{ index, ...call }] }, logprobs: index === 0 ? logprobs : null, finish_reason: null }] }));
        } else if (result.text) {
          // Cut off by max_tokens: not a call, so the partial JSON is content, as in the non-streamed answer.
          send({ ...base, object, choices: [{ index: 0, delta: { content: result.text }, logprobs, finish_reason: null }] });
        }
      }
      const last = endpoint === 'chat' ? { index: 0, delta: {}, logprobs: null, finish_reason: result.finishReason } : { index: 0, text: '', logprobs: null, finish_reason: result.finishReason };
      send({ ...base, object, choices: [last] });
      if (parsed.includeUsage) send({ ...base, object, choices: [], usage: usageOf(result) });
      res.write('data: [DONE]\n\n');
    } catch (error) {
      // Headers are gone; the OpenAI convention is an error event inside the stream.
      send(errorBody((error as Error).message, 'server_error'));
    }
    res.end();
  }

  const server = createServer((req, res) => {
    const url = req.url?.split('?')[0] ?? '/';
    const route = `${req.method} ${url}`;
    const handle = async () => {
      if (route === 'GET /health') return sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'loading' });
      if (route === 'GET /v1/models') return sendJson(res, 200, modelsBody(modelName, created, engine, weights, derivedFromSha256));
      if (route === 'GET /metrics') return sendMetrics(res, metrics.render());
      if (!ready && req.method === 'POST') throw new HttpError(503, 'model is loading', 'unavailable');
      if (route === 'POST /v1/chat/completions') return complete('chat', req, res);
      if (route === 'POST /v1/completions') return complete('completion', req, res);
      throw new HttpError(404, `no route for ${route}`, 'not_found');
    };
    handle().catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const type = error instanceof HttpError ? error.type : 'server_error';
      if (!res.headersSent) sendJson(res, status, errorBody((error as Error).message, type));
      else res.end();
    });
  });
  return { server, markReady: () => void (ready = true) };
}

/**
 * llama-server's /v1/models `meta` fields, read from the same GGUF the way llama.cpp counts them (every tensor's
 * elements and bytes), so that a golden recorded here can be told apart from, or matched with, a peer's model.
 */
function weightsMeta(engine: LlamaEngine) {
  const { model } = engine;
  const info = model.fileInfo;
  let parameters = 0;
  for (const tensor of info.fullTensorInfo ?? info.tensorInfo ?? []) parameters += tensor.dimensions.reduce<number>((n, d) => n * Number(d), 1);
  const tokens = (info.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } }).tokenizer?.ggml?.tokens;
  return {
    n_vocab: tokens?.length,
    n_ctx: engine.contextSize,
    n_ctx_train: model.trainContextSize,
    n_embd: model.embeddingVectorSize,
    n_params: parameters,
    size: model.size,
  };
}

function sendMetrics(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function modelsBody(modelName: string, created: number, engine: LlamaEngine, weights: ReturnType<typeof weightsMeta>, derivedFromSha256: string | undefined) {
  const { engine: name, engineVersion, device, driver, gpu, modelSha256 } = engine.identity;
  return {
    object: 'list',
    data: [
      {
        id: modelName,
        object: 'model',
        created,
        owned_by: 'conform',
        meta: { engine: name, engine_version: engineVersion, device, driver, gpu, model_sha256: modelSha256, derived_from_sha256: derivedFromSha256, context_size: engine.contextSize, ...weights },
      },
    ],
  };
}

function chatBody(base: Record<string, unknown>, result: GenerateResult, wantLogprobs: boolean, isToolCall: boolean) {
  // A call cut off by max_tokens is not a call: it stays visible as content with finish_reason length.
  const toolCalls = isToolCall && result.finishReason === 'tool_calls' ? toolCallsFromText(result.text) : undefined;
  return {
    ...base,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: toolCalls ? { role: 'assistant', content: null, tool_calls: toolCalls } : { role: 'assistant', content: result.text },
        logprobs: wantLogprobs ? { content: result.tokens.map(chatLogprob) } : null,
        finish_reason: result.finishReason,
      },
    ],
    usage: usageOf(result),
  };
}

function completionBody(base: Record<string, unknown>, result: GenerateResult, wantLogprobs: boolean) {
  return {
    ...base,
    object: 'text_completion',
    choices: [{ index: 0, text: result.text, logprobs: wantLogprobs ? completionLogprobs(result.tokens, 0) : null, finish_reason: result.finishReason }],
    usage: usageOf(result),
  };
}
