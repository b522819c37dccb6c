// What conform sends for a case: the OpenAI request body, and the prompt's size for the timeout policy.

import type { Case } from '../core/types.ts';

/** The JSON body for a chat or completion case; `deviations` collects what conform had to change. */
export function requestBody(model: string, testCase: Case, topLogprobsCap: number | undefined, deviations: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { model };
  if (testCase.endpoint === 'chat' && testCase.messages !== undefined) body.messages = testCase.messages;
  if (testCase.endpoint === 'completion' && testCase.prompt !== undefined) body.prompt = testCase.prompt;
  Object.assign(body, testCase.params);
  const wantsLogprobs = testCase.params.logprobs === true;
  if (testCase.endpoint === 'completion' && testCase.params.logprobs !== undefined) {
    // The completions API takes `logprobs` as the number of alternatives, not a flag.
    delete body.top_logprobs;
    if (testCase.params.logprobs) body.logprobs = testCase.params.top_logprobs ?? 1;
    else delete body.logprobs;
  }
  // The OpenAI API forbids top_logprobs without logprobs: true, and llama-server answers it with 400. A suite's
  // inherited top_logprobs on a case that turned logprobs off asks for nothing, so it is simply not sent.
  if (!wantsLogprobs) delete body.top_logprobs;
  if (testCase.params.stream === true) body.stream_options = { include_usage: true };
  const asked = testCase.params.top_logprobs;
  if (wantsLogprobs && topLogprobsCap !== undefined && asked !== undefined && asked > topLogprobsCap) {
    body[testCase.endpoint === 'completion' ? 'logprobs' : 'top_logprobs'] = topLogprobsCap;
    deviations.push(`top-logprobs-capped:${asked}->${topLogprobsCap}`);
  }
  return body;
}

/** UTF-8 bytes of what the server renders into the prompt: message texts, tool calls and tool definitions, or the prompt. */
export function promptBytes(testCase: Case): number {
  if (testCase.endpoint === 'completion') return Buffer.byteLength(testCase.prompt ?? '');
  let bytes = 0;
  for (const message of testCase.messages ?? []) {
    bytes += Buffer.byteLength(message.content ?? '');
    if (message.tool_calls) bytes += Buffer.byteLength(JSON.stringify(message.tool_calls));
  }
  if (testCase.params.tools) bytes += Buffer.byteLength(JSON.stringify(testCase.params.tools));
  return bytes;
}
