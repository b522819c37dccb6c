// The limits one request gets, as a pure function of what is known before it is sent: the prompt's size,
// the backend's class, and the slowest prefill this backend has already shown. The runner applies them.
//
// Four phases, each with its own limit, so that a timeout names what really stalled:
// - connect      the TCP connection opening;
// - first byte   sending to the response headers;
// - first token  sending to the first streamed content (the prefill): grows with the prompt;
// - silence      the longest gap between two reads once the answer has begun;
// and a whole-request limit over all of them.
//
// Prefill allowance P = SAFETY × max(class estimate, measured estimate), where
// - class estimate    = estimated prompt tokens / the class's slowest expected prefill rate;
// - measured estimate = the largest prompt this backend prefilled so far, scaled to this prompt: linearly up to
//   its size and quadratically beyond it (attention makes prefill cost per token grow with the position, so
//   time grows at most with the square of the length). It can only raise the limit, never lower it below the
//   class estimate: a rate measured on a short prompt says little about a long one.

/** What the runner has seen of a backend's prefill: the largest prompt so far and its time to first token. */
export interface PrefillObservation {
  promptBytes: number;
  prefillMs: number;
}

/** Limits a backend's config sets explicitly; each one replaces the policy's value. */
export interface TimeoutOverrides {
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  firstTokenTimeoutMs?: number;
  idleTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface TimeoutInputs {
  /** The backend's tolerance class (cpu, gpu, software-gpu, rocm, npu, …). */
  backendClass?: string;
  /** UTF-8 bytes of everything rendered into the prompt: messages, tool definitions, or the completion prompt. */
  promptBytes: number;
  /** Prompt plus answer tokens the case declares (`requires.contextTokens`), an upper bound of its prompt. */
  declaredTokens?: number;
  streamed: boolean;
  measured?: PrefillObservation;
  overrides?: TimeoutOverrides;
}

export interface RequestTimeouts {
  connectMs: number;
  firstByteMs: number;
  /** Only streamed requests have a first token; for others it equals `firstByteMs`. */
  firstTokenMs: number;
  idleMs: number;
  totalMs: number;
  /** How the first-token limit was reached, for the timeout message. */
  firstTokenBasis: string;
}

/** A connect that has not finished in 10 s is a server not accepting: loopback and LAN connects take milliseconds. */
export const CONNECT_MS = 10_000;
/**
 * Before any prompt cost: a cold Vulkan (llvmpipe) request compiles pipelines for new shapes, 17–32 s on a
 * 2-core machine (../shared/DESIGN.md), doubled for a busy machine.
 */
export const FIRST_TOKEN_BASE_MS = 60_000;
/**
 * Once tokens flow, a gap is one decode step: 3.2 ms on cpu and 90 ms on cold software Vulkan for the fixture
 * model (DESIGN.md); 30 s is over 300 times the slowest, and stays the documented default.
 */
export const SILENCE_MS = 30_000;
/** The whole request of a short prompt: the former default, leaving 60 s of decoding after a first token at its base limit. */
export const REQUEST_BASE_MS = 120_000;
/** Decoding time a request always keeps after its first-token limit, when the first-token limit is set by hand. */
export const DECODE_ALLOWANCE_MS = 60_000;
/**
 * The estimate's margin. Prefill on this 2-core machine swings about 2× with the load: the fixture's 31,456-token
 * prompt reached its first token in 16 s while golden was recorded and in 30 s in DESIGN.md's cost table.
 */
export const PREFILL_SAFETY = 3;
/**
 * Tokens from bytes: the fixture tokenizer (900 tokens, byte fallback) gives 2.09–2.15 bytes per token on the
 * long-context filler (1,045 to 31,456 tokens); real BPE vocabularies give 3–4 on English. Dividing by 2
 * overestimates, which errs toward a longer limit.
 */
export const BYTES_PER_TOKEN = 2;
/** Nothing in the cost table comes near it (software Vulkan, 32K tokens: over 5 minutes); a limit past it protects nothing. */
export const MAX_FIRST_TOKEN_MS = 30 * 60_000;

/**
 * Slowest expected prefill, tokens per second, by class, from the fixture model on this 2-core machine:
 * - cpu: 32K tokens in 30 s (DESIGN.md) = 1,092/s; golden's ctx-32k, 31,456 tokens in 16 s = 1,959/s;
 * - cpu-q8 (Q8_0 weights on the same kernels): prefill 1,436 tok/s in a default run against cpu's 1,496, so cpu's;
 * - software-gpu (Vulkan on llvmpipe): 16K in 207 s = 79/s, 4K in 32 s = 128/s.
 * Real accelerators are not measured here; they prefill far faster than the fixture on cpu, whose rate is
 * their floor. An unknown class gets the slowest known rate.
 */
export const PREFILL_TOKENS_PER_SECOND: Readonly<Record<string, number>> = { cpu: 1_000, 'cpu-q8': 1_000, gpu: 1_000, rocm: 1_000, npu: 1_000, 'software-gpu': 75 };
const SLOWEST_RATE = Math.min(...Object.values(PREFILL_TOKENS_PER_SECOND));

/** A measurement from a prompt smaller than this is mostly fixed overhead, and scaling it up would mean nothing. */
export const MIN_OBSERVED_PROMPT_BYTES = 2_000;

/** The prompt's token count as the policy estimates it: from its bytes, or the case's own declaration when larger. */
export function estimatedPromptTokens(promptBytes: number, declaredTokens?: number): number {
  return Math.max(Math.ceil(promptBytes / BYTES_PER_TOKEN), declaredTokens ?? 0);
}

function measuredPrefillMs(promptBytes: number, measured: PrefillObservation | undefined): number {
  if (!measured || measured.promptBytes < MIN_OBSERVED_PROMPT_BYTES || !(measured.prefillMs > 0)) return 0;
  const ratio = promptBytes / measured.promptBytes;
  return measured.prefillMs * ratio * Math.max(1, ratio);
}

/** The limits for one request; see the rules at the top of this file. */
export function requestTimeouts(inputs: TimeoutInputs): RequestTimeouts {
  const o = inputs.overrides ?? {};
  const cls = inputs.backendClass ?? 'unknown';
  const rate = PREFILL_TOKENS_PER_SECOND[cls] ?? SLOWEST_RATE;
  const tokens = estimatedPromptTokens(inputs.promptBytes, inputs.declaredTokens);
  const byClassMs = (tokens / rate) * 1000;
  const byMeasureMs = measuredPrefillMs(inputs.promptBytes, inputs.measured);
  const prefillMs = Math.min(MAX_FIRST_TOKEN_MS, PREFILL_SAFETY * Math.max(byClassMs, byMeasureMs));
  const estimate = byMeasureMs > byClassMs ? `the slowest prefill this backend has shown, scaled to this prompt` : `class ${cls} at ${rate} tokens/s`;
  const policyFirstTokenMs = Math.round(Math.min(MAX_FIRST_TOKEN_MS, FIRST_TOKEN_BASE_MS + prefillMs));
  const firstTokenMs = o.firstTokenTimeoutMs ?? policyFirstTokenMs;
  const firstTokenBasis =
    o.firstTokenTimeoutMs !== undefined
      ? 'set by firstTokenTimeoutMs'
      : `${FIRST_TOKEN_BASE_MS / 1000} s + ${PREFILL_SAFETY} × the prefill of about ${tokens} prompt tokens (${estimate})`;
  const totalMs = o.requestTimeoutMs ?? Math.round(Math.max(REQUEST_BASE_MS + prefillMs, (inputs.streamed ? firstTokenMs : 0) + DECODE_ALLOWANCE_MS));
  // Headers cannot honestly come after the first token; unstreamed, most servers send them with the whole answer.
  const firstByteMs = o.firstByteTimeoutMs ?? (inputs.streamed ? firstTokenMs : totalMs);
  return {
    connectMs: o.connectTimeoutMs ?? CONNECT_MS,
    firstByteMs,
    firstTokenMs: inputs.streamed ? firstTokenMs : firstByteMs,
    idleMs: o.idleTimeoutMs ?? SILENCE_MS,
    totalMs,
    firstTokenBasis,
  };
}
