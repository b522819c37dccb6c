// Did the backend read the prompt conform sent? A server that cuts an over-long prompt to its context and
// answers 200 (llama.cpp b4748 read 3,884 tokens of a 10,000-word prompt, ANCHORS.md), or that drops half a
// message, answers something: later checks then blame kernels ("confident flip") for what the prompt caused.
// Three things say how many tokens the prompt holds: golden's usage.prompt_tokens (same model, same case),
// the words sent (no tokenizer conform knows puts two whitespace-separated words in one token, so half the
// word count is a floor with room to spare), and the backend's context size for messages. Tools offered must
// be in the prompt too (with tool_choice "none" as well: the OpenAI API still shows them to the model), or the
// model cannot see them: llama-server silently leaves them out for a chat template without tool support, and
// its answer then looks like any other.

import type { Case, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'prompt-tokens';

/** Prompt tokens per whitespace-separated word, at the least: a floor, where real tokenizers give 1 to 2. */
export const MIN_TOKENS_PER_WORD = 0.5;

/**
 * Bytes of tool definitions per prompt token, at the most: English averages about 4 bytes a token in common
 * BPE vocabularies and JSON fewer, so 8 leaves a wide margin for any tokenizer and template.
 */
export const MAX_TOOL_BYTES_PER_TOKEN = 8;

/** The fewest prompt tokens that can hold the tools a case offers; 0 when it offers none. */
export function toolTokensFloor(testCase: Case): { bytes: number; floor: number } {
  const tools = testCase.params.tools;
  if (!tools?.length) return { bytes: 0, floor: 0 };
  const bytes = Buffer.byteLength(JSON.stringify(tools.map((t) => t.function)));
  return { bytes, floor: Math.floor(bytes / MAX_TOOL_BYTES_PER_TOKEN) };
}

/** Whitespace-separated words of what the case sends as prompt: message contents or the completion prompt. */
export function promptWords(testCase: Case): number {
  const texts = [...(testCase.messages ?? []).map((m) => m.content ?? ''), testCase.prompt ?? ''];
  return texts.reduce((n, text) => n + (text.match(/\S+/g)?.length ?? 0), 0);
}

/** The prompt token counts of golden and the backend, when both reported them and they differ. */
export function promptDiffersFromGolden(sample: { usage?: { promptTokens: number } }, reference: { usage?: { promptTokens: number } } | undefined): { golden: number; got: number } | undefined {
  const golden = reference?.usage?.promptTokens;
  const got = sample.usage?.promptTokens;
  return golden !== undefined && got !== undefined && golden !== got ? { golden, got } : undefined;
}

/** usage.prompt_tokens against golden's, the words sent and the backend's context: truncation is a fail naming both counts. Needs no reference. */
export const promptTokens: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, reference, testCase, identity }): Verdict {
    const got = sample.usage?.promptTokens;
    if (got === undefined) return { check: CHECK, status: 'skip', message: 'the backend reported no usage.prompt_tokens, so what it read of the prompt is unknown' };
    const golden = reference?.usage?.promptTokens;
    const words = promptWords(testCase);
    const floor = Math.ceil(words * MIN_TOKENS_PER_WORD);
    const context = identity?.contextSize;
    const expected = Math.max(golden ?? 0, floor);
    const details = { promptTokens: got, goldenPromptTokens: golden ?? null, words, floor, contextSize: context ?? null };
    const needs = golden !== undefined && golden >= floor ? `golden read ${golden}` : `${words} words sent, at least ${floor} tokens`;
    const fail = (message: string): Verdict => ({ check: CHECK, status: 'fail', measured: got, threshold: golden ?? floor, message, details });

    // At or near the context while the prompt needs more: cut to fit and answered 200 instead of refused.
    const room = testCase.params.max_tokens ?? 0;
    if (got < expected && context !== undefined && expected + room > context)
      return fail(`truncated prompt: the backend read ${got} prompt tokens of a prompt that needs ${expected} (${needs}); its context holds ${context}, and it answered 200 instead of refusing`);
    if (golden !== undefined && got !== golden) {
      const how = got < golden ? 'cut the prompt, or rendered the chat template or tools differently' : 'added to the prompt, or rendered the chat template or tools differently';
      return fail(`the backend read ${got} prompt tokens, golden ${golden}: it ${how}; comparisons of tokens with golden are skipped, since they would judge the prompt, not the backend`);
    }
    if (got < floor) return fail(`the backend read ${got} prompt tokens of ${words} words sent (at least ${floor} tokens): it cut the prompt`);
    const tools = toolTokensFloor(testCase);
    if (tools.floor > 0 && got < floor + tools.floor)
      return {
        ...fail(`tools left out of the prompt: the backend read ${got} prompt tokens, too few for the messages (at least ${floor}) and the ${tools.bytes} bytes of tool definitions it was offered (at least ${tools.floor} more); the model could not see the tools`),
        threshold: floor + tools.floor,
        details: { ...details, toolBytes: tools.bytes, toolFloor: tools.floor },
      };
    const versus = golden !== undefined ? `as golden` : `for ${words} words sent`;
    return { check: CHECK, status: 'pass', measured: got, threshold: golden ?? floor, message: `read ${got} prompt tokens, ${versus}${context !== undefined ? `; context ${context}` : ''}`, details };
  },
};
