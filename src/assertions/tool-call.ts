import type { Case, Sample, ToolCall, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { validatorFor } from './json-schema.ts';

const CHECK = 'tool-call';

function fail(measured: string, threshold: string, message: string): Verdict {
  return { check: CHECK, status: 'fail', measured, threshold, message };
}

function forcedName(testCase: Case): string | undefined {
  const choice = testCase.params.tool_choice;
  return typeof choice === 'object' ? choice.function.name : undefined;
}

function checkCall(call: ToolCall, sample: Sample, testCase: Case): Verdict | undefined {
  const tool = testCase.params.tools?.find((t) => t.function.name === call.name);
  if (!tool) return fail(call.name, 'an offered tool', `called ${JSON.stringify(call.name)}, which the request did not offer`);
  if (sample.deviations.includes('tool-arguments-not-string'))
    return fail('object', 'JSON string', `arguments of ${call.name} came as a JSON object, not the string the OpenAI API requires`);
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    return fail('not JSON', 'JSON string', `arguments of ${call.name} are not valid JSON: ${JSON.stringify(call.arguments.slice(0, 60))}`);
  }
  const validate = validatorFor(tool.function.parameters ?? {});
  if (typeof validate === 'string') return { check: CHECK, status: 'error', message: `tool ${call.name}: ${validate}` };
  if (!validate(args)) {
    const first = validate.errors?.[0];
    return fail('invalid', 'tool schema', `arguments of ${call.name} do not match its schema at "${first?.instancePath || '/'}": ${first?.message}`);
  }
  return undefined;
}

/** Structure of tool calls, needing no reference: the right tool, schema-valid string arguments, finish_reason tool_calls. */
export const toolCall: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase }) {
    const forced = forcedName(testCase);
    if (sample.toolCalls.length === 0)
      return fail('0 calls', '≥ 1 call', `no tool call in the answer (finish_reason ${sample.finishReason})${forced ? `; tool_choice named ${forced}, so the server ignored it` : ''}`);
    if (forced) {
      const other = sample.toolCalls.find((c) => c.name !== forced);
      if (other) return fail(other.name, forced, `tool_choice named ${forced} but the server called ${other.name}: a named tool_choice was ignored`);
    }
    if (sample.deviations.includes('parallel-tool-calls-share-index'))
      return fail('index 0 shared', 'distinct indices', `parallel tool calls all came with index 0, so a client merges them into one call (${sample.toolCalls.length} call(s) received)`);
    for (const call of sample.toolCalls) {
      const problem = checkCall(call, sample, testCase);
      if (problem) return problem;
    }
    if (sample.finishReason !== 'tool_calls')
      return fail(String(sample.finishReason), 'tool_calls', `finish_reason is ${JSON.stringify(sample.finishReason)}, expected "tool_calls"`);
    const names = sample.toolCalls.map((c) => c.name).join(', ');
    return { check: CHECK, status: 'pass', measured: `${sample.toolCalls.length} calls`, threshold: 'valid calls', message: `${sample.toolCalls.length} valid call(s): ${names}` };
  },
};
