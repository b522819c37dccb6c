import { validatorFor } from '../assertions/json-schema.ts';
import type { Case, Sample, ToolDefinition } from '../core/types.ts';
import type { Runner } from '../runners/runner.ts';

export type FeatureVerdict = 'yes' | 'no' | `error: ${string}`;

export interface FeatureProbe {
  logprobs: FeatureVerdict;
  tools: FeatureVerdict;
  namedToolChoice: FeatureVerdict;
  streamedTools: FeatureVerdict;
  jsonSchema: FeatureVerdict;
}

// Bounded strings: a small or random model never closes an open-ended one.
const TOOLS: ToolDefinition[] = ['get_weather', 'get_time'].map((name) => ({
  type: 'function',
  function: { name, description: name.replace('_', ' '), parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Lima', 'Oslo'] } }, required: ['city'] } },
}));
const SCHEMA = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
const messages: Case['messages'] = [{ role: 'user', content: 'Weather in Lima?' }];

function probeCase(id: string, params: Case['params']): Case {
  return { id, endpoint: 'chat', messages, params: { temperature: 0, max_tokens: 48, ...params }, checks: [] };
}

function judge(sample: Sample, supported: (s: Sample) => boolean): FeatureVerdict {
  if (sample.kind !== 'ok') return `error: ${sample.kind}${sample.error?.status ? ` ${sample.error.status}` : ''}`;
  return supported(sample) ? 'yes' : 'no';
}

function jsonValid(text: string): boolean {
  try {
    const validate = validatorFor(SCHEMA);
    return typeof validate !== 'string' && validate(JSON.parse(text));
  } catch {
    return false;
  }
}

/** Small real requests that show what a server does, rather than what its docs claim. */
export async function probeFeatures(runner: Runner, signal?: AbortSignal): Promise<FeatureProbe> {
  const run = (c: Case) => runner.run(c, { signal });
  const named = { type: 'function' as const, function: { name: 'get_time' } };
  return {
    logprobs: judge(await run(probeCase('logprobs', { max_tokens: 2, logprobs: true, top_logprobs: 2 })), (s) => s.tokens.length > 0 && s.tokens[0]!.top.length >= 2),
    tools: judge(await run(probeCase('tools', { tools: TOOLS, tool_choice: 'required' })), (s) => s.toolCalls.length > 0),
    namedToolChoice: judge(await run(probeCase('named', { tools: TOOLS, tool_choice: named })), (s) => s.toolCalls.length > 0 && s.toolCalls.every((c) => c.name === 'get_time')),
    streamedTools: judge(await run(probeCase('streamed-tools', { tools: TOOLS, tool_choice: 'required', stream: true })), (s) => s.toolCalls.length > 0),
    jsonSchema: judge(await run(probeCase('json-schema', { response_format: { type: 'json_schema', json_schema: { name: 'probe', schema: SCHEMA } } })), (s) => jsonValid(s.text)),
  };
}
