// Rebuilds the Case that would make the runner send a recorded request, so recordings double as runner inputs.

import type { Case, CaseParams, ChatMessage } from '../../../src/core/types.ts';

/** The Case behind a recorded request body; `stream_options` is dropped because the runner adds it itself. */
export function caseFromRequest(id: string, request: Record<string, unknown>): Case {
  const { model: _model, messages, prompt, stream_options: _streamOptions, ...rest } = request;
  const params = { ...rest } as CaseParams & Record<string, unknown>;
  const endpoint = typeof prompt === 'string' ? 'completion' : 'chat';
  // The completions API counts alternatives in `logprobs`; Cases say it the chat way.
  if (endpoint === 'completion' && typeof rest.logprobs === 'number') {
    params.logprobs = true;
    params.top_logprobs = rest.logprobs;
  }
  const testCase: Case = { id, endpoint, params, checks: [] };
  if (endpoint === 'chat' && messages !== undefined) testCase.messages = messages as ChatMessage[];
  if (typeof prompt === 'string') testCase.prompt = prompt;
  return testCase;
}
