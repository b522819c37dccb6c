// Faults in tool calling.
import type { Sample } from '../core/types.ts';
import { type FaultDefinition } from './fault.ts';

const withCalls = (s: Sample) => s.kind === 'ok' && s.toolCalls.length > 0;

export const toolArgumentsObject: FaultDefinition = {
  name: 'tool-arguments-object',
  kind: 'must-catch',
  backend: 'other',
  description: 'tool-call arguments sent as a JSON object, not a string (TGI #2136)',
  expect: ['tool-call'],
  applies: (c) => (c.params.tools?.length ?? 0) > 0,
  apply(sample) {
    if (!withCalls(sample)) return sample;
    return { ...sample, deviations: [...sample.deviations, 'tool-arguments-not-string'] };
  },
};

export const parallelShareIndex: FaultDefinition = {
  name: 'parallel-calls-share-index',
  kind: 'must-catch',
  backend: 'other',
  description: 'parallel calls all numbered index 0; a naive client merges them into one call with concatenated arguments (vercel/ai #14277)',
  expect: ['tool-call', 'tool-calls-match'],
  applies: (c) => c.params.parallel_tool_calls === true,
  apply(sample) {
    if (!withCalls(sample) || sample.toolCalls.length < 2) return sample;
    const [first] = sample.toolCalls;
    const merged = { ...first!, index: 0, arguments: sample.toolCalls.map((c) => c.arguments).join('') };
    return { ...sample, toolCalls: [merged], deviations: [...sample.deviations, 'parallel-tool-calls-share-index'] };
  },
};

export const toolCallsDroppedStreaming: FaultDefinition = {
  name: 'tool-calls-dropped-streaming',
  kind: 'must-catch',
  backend: 'other',
  description: 'tool calls lost only when streaming: no calls, finish_reason stop',
  expect: ['tool-call', 'tool-calls-match', 'matches-case'],
  applies: (c) => c.params.stream === true && (c.params.tools?.length ?? 0) > 0,
  apply(sample) {
    if (!withCalls(sample) || !sample.streamed) return sample;
    return { ...sample, toolCalls: [], finishReason: 'stop' };
  },
};

export const namedToolChoiceIgnored: FaultDefinition = {
  name: 'named-tool-choice-ignored',
  kind: 'must-catch',
  backend: 'other',
  description: 'a named tool_choice ignored: another offered tool is called (llama.cpp #28806)',
  expect: ['tool-call'],
  applies: (c) => typeof c.params.tool_choice === 'object' && (c.params.tools?.length ?? 0) > 1,
  apply(sample, testCase) {
    if (!withCalls(sample) || typeof testCase.params.tool_choice !== 'object') return sample;
    const forced = testCase.params.tool_choice.function.name;
    const other = testCase.params.tools!.find((t) => t.function.name !== forced)!.function.name;
    return { ...sample, toolCalls: sample.toolCalls.map((c, i) => (i === 0 ? { ...c, name: other } : c)) };
  },
};
