import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  getLlama,
  LlamaGrammarEvaluationState,
  LlamaLogLevel,
  type Llama,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import type { BackendIdentity } from '../core/types.ts';
import { createJsonCompletionTracker } from './json-completion.ts';
import type { OutputConstraint } from './output-grammar.ts';
import { createSequencePool } from './sequence-pool.ts';
import { createStopMatcher } from './stop-matcher.ts';

export type GpuChoice = 'cpu' | 'vulkan' | 'cuda' | 'metal' | 'auto';

export interface LlamaEngineOptions {
  gpu: GpuChoice;
  modelPath: string;
  /** Threads for ggml's CPU work. Set it: the default spin-waits on small machines (231 vs 3.2 ms/token). @default 1 */
  threads?: number;
  /** @default the model's training context */
  contextSize?: number;
  /**
   * Requests evaluated in parallel. @default 1
   * One sequence keeps greedy output free of batch variance (ANCHORS.md: llama.cpp #7052).
   */
  sequences?: number;
  /**
   * Fused attention kernels. @default true
   * Without them, ggml's Vulkan attention path corrupted the heap on Mesa 22.3 llvmpipe once a
   * prompt passed about 1K tokens (3 of 3 processes at 1,154 tokens, gdb: a SIGSEGV inside
   * lavapipe's command execution while ggml waited on its fence); with them, 0 of 3 up to 2,336.
   */
  flashAttention?: boolean;
  /** KV cache type of keys and values alike (ggml names: f16, q8_0, …). @default 'f16', llama.cpp's own */
  kvCacheType?: KvCacheType;
  /** Tokens evaluated per batch while reading a prompt. @default 512 (node-llama-cpp's, or the context size when smaller) */
  batchSize?: number;
}

/** KV cache types a plan variant may ask for; quantized V needs flash attention in llama.cpp. */
export const KV_CACHE_TYPES = ['f32', 'f16', 'q8_0', 'q4_0'] as const;
export type KvCacheType = (typeof KV_CACHE_TYPES)[number];
const GGML_KV_TYPE = { f32: 'F32', f16: 'F16', q8_0: 'Q8_0', q4_0: 'Q4_0' } as const;

export interface GeneratedToken {
  id: number;
  text: string;
  logprob: number;
  top: Array<{ id: number; token: string; logprob: number }>;
}

export interface GenerateRequest {
  prompt: Token[];
  maxTokens: number;
  temperature: number;
  seed?: number;
  topLogprobs: number;
  stop: string[];
  constraint?: OutputConstraint;
  signal?: AbortSignal;
  /** Called once the request holds a sequence: from then on it is processed, no longer waiting (/metrics). */
  onStart?: () => void;
}

/** Called with each piece of answer text; `token` is absent for text released without a new token. */
export type DeltaListener = (delta: string, token: GeneratedToken | undefined) => void;

export interface GenerateResult {
  finishReason: 'stop' | 'length' | 'tool_calls';
  tokens: GeneratedToken[];
  text: string;
  promptTokens: number;
}

export interface LlamaEngine {
  readonly identity: BackendIdentity;
  readonly contextSize: number;
  readonly model: LlamaModel;
  generate(request: GenerateRequest, onDelta?: DeltaListener): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

/**
 * node-llama-cpp's version, from the package.json above the file Node resolves for it: npm may
 * hoist the package anywhere up the tree, so no path is assumed.
 */
function nodeLlamaCppVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('node-llama-cpp'));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'node-llama-cpp' && pkg.version) return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Loads llama.cpp on the chosen device from the prebuilt binaries only; compiling at run time is never an option. */
export async function createLlamaEngine(options: LlamaEngineOptions): Promise<LlamaEngine> {
  const gpu = options.gpu === 'cpu' ? false : options.gpu;
  const llama: Llama = await getLlama({ gpu, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
  const devices = await llama.getGpuDeviceNames();
  if (options.gpu !== 'cpu' && options.gpu !== 'auto' && (llama.gpu !== options.gpu || devices.length === 0))
    throw new EngineUnavailableError(`no ${options.gpu} device is usable (llama.cpp reports gpu=${llama.gpu}, devices=[${devices.join(', ')}])`);
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: llama.gpu === false ? 0 : 'max' });
  const contextSize = Math.min(options.contextSize ?? model.trainContextSize, model.trainContextSize);
  const sequences = options.sequences ?? 1;
  const kv = options.kvCacheType ? GGML_KV_TYPE[options.kvCacheType] : undefined;
  const context = await model.createContext({
    contextSize,
    sequences,
    threads: options.threads ?? 1,
    flashAttention: options.flashAttention ?? true,
    ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    // node-llama-cpp marks these experimental: they are set only when a plan variant asks for them.
    ...(kv && { experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv }),
  });
  const pool = createSequencePool(Array.from({ length: sequences }, () => context.getSequence()));
  const grammars = new Map<string, Promise<LlamaGrammar>>();
  const grammarFor = (constraint: OutputConstraint) => {
    const key = JSON.stringify(constraint.schema);
    let grammar = grammars.get(key);
    if (!grammar) grammars.set(key, (grammar = llama.createGrammarForJsonSchema(constraint.schema as never)));
    return grammar;
  };
  const identity: BackendIdentity = {
    engine: 'llama.cpp (node-llama-cpp)',
    engineVersion: `node-llama-cpp ${nodeLlamaCppVersion()}, llama.cpp ${llama.llamaCppRelease.release}`,
    gpu: llama.gpu === false ? 'cpu' : llama.gpu,
    device: llama.gpu === false ? cpuName() : devices.join(', '),
    driver: llama.gpu === false ? 'ggml-cpu' : driverOf(devices),
    model: model.filename,
    modelSha256: fileSha256(options.modelPath),
  };
  return {
    identity,
    contextSize: context.contextSize,
    model,
    generate: (request, onDelta) =>
      pool.use((sequence) => {
        request.onStart?.();
        return generateOn(sequence, model, request, grammarFor, onDelta);
      }),
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** Thrown when the requested device does not exist here; `conform serve` turns it into exit code 69 (EX_UNAVAILABLE). */
export class EngineUnavailableError extends Error {}

function cpuName(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? 'cpu';
  } catch {
    return 'cpu';
  }
}

function driverOf(devices: string[]): string {
  return devices.some((d) => d.startsWith('llvmpipe')) ? 'Mesa llvmpipe (software Vulkan)' : 'vendor driver';
}

/**
 * Every request starts from an empty sequence. Reusing a cached prefix changed logprobs by ~1e-7
 * (a different batch shape), so a cache hit would make golden unreproducible; the fixture
 * model re-reads a prompt in milliseconds.
 */
async function freshSequence(sequence: LlamaContextSequence, prompt: Token[]): Promise<Token[]> {
  await sequence.clearHistory();
  return prompt;
}

function detokenizeStable(model: LlamaModel, tokens: Token[], before: Token[]): string {
  const text = model.detokenize(tokens, false, before);
  // A byte-fallback token can end mid-character; hold the partial character back until it completes.
  return text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
}

async function generateOn(
  sequence: LlamaContextSequence,
  model: LlamaModel,
  request: GenerateRequest,
  grammarFor: (c: OutputConstraint) => Promise<LlamaGrammar>,
  onDelta?: DeltaListener,
): Promise<GenerateResult> {
  const grammar = request.constraint ? await grammarFor(request.constraint) : undefined;
  const grammarState = grammar ? new LlamaGrammarEvaluationState({ model, grammar }) : undefined;
  const remaining = sequence.contextSize - request.prompt.length;
  const maxTokens = Math.max(0, Math.min(request.maxTokens, remaining));
  const stopMatcher = createStopMatcher(request.stop);
  const jsonTracker = createJsonCompletionTracker();
  const tokens: GeneratedToken[] = [];
  const ids: Token[] = [];
  let text = '';
  let emitted = '';
  let finishReason: GenerateResult['finishReason'] = 'stop';
  const input = await freshSequence(sequence, request.prompt);
  if (maxTokens === 0) return { finishReason: 'length', tokens, text, promptTokens: request.prompt.length };
  const iterator = sequence.evaluateWithMetadata(input, { probabilities: true }, {
    temperature: request.temperature,
    seed: request.seed,
    grammarEvaluationState: grammarState,
  });
  for await (const step of iterator) {
    if (request.signal?.aborted) break;
    const token = describeToken(model, step.token, step.probabilities, request.topLogprobs, ids.length > 0 ? ids.slice(-4) : request.prompt.slice(-4));
    ids.push(step.token);
    const fullText = detokenizeStable(model, ids, request.prompt.slice(-4));
    const delta = fullText.slice(text.length);
    text = fullText;
    const { emit, stopped } = stopMatcher.push(delta);
    emitted += emit;
    if (stopped) {
      // The token that completed the stop string is not part of the answer, in text or logprobs.
      if (emit) onDelta?.(emit, undefined);
      finishReason = 'stop';
      break;
    }
    tokens.push(token);
    onDelta?.(emit, token);
    if (request.constraint && jsonTracker.push(delta)) {
      finishReason = request.constraint.toolCalls === 'none' ? 'stop' : 'tool_calls';
      break;
    }
    if (tokens.length >= maxTokens) {
      finishReason = 'length';
      break;
    }
  }
  await iterator.return?.();
  // Text held back as a possible stop-string start turned out not to be one: it belongs to the answer.
  const held = stopMatcher.flush();
  emitted += held;
  if (held) onDelta?.(held, undefined);
  return { finishReason, tokens, text: emitted, promptTokens: request.prompt.length };
}

/** Token text is decoded after its predecessors, so a SentencePiece word-start token keeps its leading space. */
function describeToken(model: LlamaModel, id: Token, probabilities: Map<Token, number>, topN: number, before: Token[]): GeneratedToken {
  const text = (t: Token) => model.detokenize([t], true, before);
  // The map is only nearly sorted; top-k membership is the comparators' core test, so sort it exactly.
  const ranked = topN > 0 ? [...probabilities].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topN) : [];
  const top = ranked.map(([alt, p]) => ({ id: alt, token: text(alt), logprob: Math.log(p) }));
  const p = probabilities.get(id);
  return { id, text: text(id), logprob: p === undefined ? -Infinity : Math.log(p), top };
}

