import { validatorFor } from '../assertions/json-schema.ts';
import type { Case, Sample, ToolDefinition } from '../core/types.ts';
import type { Runner } from '../runners/runner.ts';

/** `yes`; `no: why` (answered without the feature, or refused it, with the server's own message); `error: what` (no usable answer). */
export type FeatureVerdict = 'yes' | `no: ${string}` | `error: ${string}`;

export interface FeatureProbe {
  logprobs: FeatureVerdict;
  tools: FeatureVerdict;
  namedToolChoice: FeatureVerdict;
  streamedTools: FeatureVerdict;
  jsonSchema: FeatureVerdict;
}

/** Either what the server supports, or why it could not be asked at all. */
export type FeatureProbeOutcome = { reachable: true; features: FeatureProbe } | { reachable: false; reason: string };

// Bounded strings: a small or random model never closes an open-ended one.
const TOOLS: ToolDefinition[] = ['get_weather', 'get_time'].map((name) => ({
  type: 'function',
  function: { name, description: name.replace('_', ' '), parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Lima', 'Oslo'] } }, required: ['city'] } },
}));
const SCHEMA = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
const messages: Case['messages'] = [{ role: 'user', content: 'Weather in Lima?' }];

// Statuses that say the server is busy, not authorised or at another URL: nothing about the feature (SHARED-TYPES 5).
const NOT_AN_ANSWER = new Set([401, 403, 404, 408, 429, 502, 503, 504]);

// Why a connection never opened, in words; undici and Node name these by errno-style codes.
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
};

function probeCase(id: string, params: Case['params']): Case {
  return { id, endpoint: 'chat', messages, params: { temperature: 0, max_tokens: 48, ...params }, checks: [] };
}

const oneLine = (text: string, max = 200) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** What kept an answer away, with the server's message where it sent one. */
function failure(sample: Sample): FeatureVerdict {
  const message = oneLine(sample.error?.message ?? '');
  const status = sample.error?.status;
  if (sample.kind === 'http-error') return `${status !== undefined && !NOT_AN_ANSWER.has(status) ? 'no' : 'error'}: HTTP ${status ?? '?'} ${message || 'no message'}`;
  if (sample.kind === 'protocol-error') return sample.error?.code === 'body-too-large' ? `error: ${message}` : `no: protocol error: ${message}`;
  return `error: ${sample.kind}: ${message}`;
}

/** The verdict on one probe: `missing` says why an answer lacks the feature, or undefined when it has it. */
function judge(sample: Sample, missing: (s: Sample) => string | undefined): FeatureVerdict {
  if (sample.kind !== 'ok') return failure(sample);
  const why = missing(sample);
  return why === undefined ? 'yes' : `no: ${why}`;
}

const noToolCall = (choice: string) => (s: Sample) => (s.toolCalls.length > 0 ? undefined : `tool_choice ${choice} ignored: answered without a tool call (finish_reason ${s.finishReason ?? 'none'})`);

function jsonProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'response_format json_schema: the answer is not JSON';
  }
  const validate = validatorFor(SCHEMA);
  return typeof validate !== 'string' && validate(value) ? undefined : 'response_format json_schema: the JSON answer does not match the schema';
}

/** The first request's failure to connect at all, in words, or undefined when the server answered something. */
function unreachable(sample: Sample, shownBaseUrl: string): string | undefined {
  if (sample.kind !== 'crash' || sample.timings.firstByteMs !== undefined) return undefined;
  const code = sample.error?.code;
  const what = (code && UNREACHABLE[code]) ?? oneLine(sample.error?.message ?? 'no connection');
  return `unreachable: ${what} at ${shownBaseUrl}`;
}

/** Small real requests that show what a server does, rather than what its docs claim; `shownBaseUrl` names it without credentials. */
export async function probeFeatures(runner: Runner, shownBaseUrl: string, signal?: AbortSignal): Promise<FeatureProbeOutcome> {
  const run = (c: Case) => runner.run(c, { signal });
  const named = { type: 'function' as const, function: { name: 'get_time' } };
  const logprobsSample = await run(probeCase('logprobs', { max_tokens: 2, logprobs: true, top_logprobs: 2 }));
  const down = unreachable(logprobsSample, shownBaseUrl);
  if (down) return { reachable: false, reason: down };
  return {
    reachable: true,
    features: {
      logprobs: judge(logprobsSample, (s) => (s.tokens.length === 0 ? 'answered without logprobs' : s.tokens[0]!.top.length < 2 ? `${s.tokens[0]!.top.length} alternative(s) per token, asked for 2` : undefined)),
      tools: judge(await run(probeCase('tools', { tools: TOOLS, tool_choice: 'required' })), noToolCall('"required"')),
      namedToolChoice: judge(await run(probeCase('named', { tools: TOOLS, tool_choice: named })), (s) => {
        const other = s.toolCalls.find((c) => c.name !== 'get_time');
        return other ? `tool_choice get_time ignored: called ${other.name}` : noToolCall('get_time')(s);
      }),
      // With logprobs, as the suites send them: a server that streams tools only without logprobs cannot serve their streamed tool cases.
      streamedTools: judge(await run(probeCase('streamed-tools', { tools: TOOLS, tool_choice: 'required', stream: true, logprobs: true, top_logprobs: 2 })), noToolCall('"required"')),
      jsonSchema: judge(await run(probeCase('json-schema', { response_format: { type: 'json_schema', json_schema: { name: 'probe', schema: SCHEMA } } })), (s) => jsonProblem(s.text)),
    },
  };
}
