import type { Sample, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'max-tokens';

/**
 * No token of any vocabulary conform knows spells more than this many UTF-8 bytes (the longest llama.cpp,
 * tiktoken and SentencePiece vocabularies ship run to 128-byte whitespace tokens): text longer than
 * max_tokens × this cannot have come from max_tokens tokens, whatever the tokenizer.
 */
export const MAX_TOKEN_BYTES = 1024;

const encoder = new TextEncoder();
const utf8Bytes = (text: string) => encoder.encode(text).length;

/** Bytes of everything the answer generated: content, reasoning and tool-call arguments. */
function generatedBytes(sample: Sample): number {
  return utf8Bytes(sample.text) + utf8Bytes(sample.reasoning ?? '') + sample.toolCalls.reduce((n, c) => n + utf8Bytes(c.name) + utf8Bytes(c.arguments), 0);
}

/** The counts a sample gives of its own completion tokens, each with where it came from. */
function tokenCounts(sample: Sample): Array<{ count: number; source: string }> {
  const counts: Array<{ count: number; source: string }> = [];
  if (sample.usage) counts.push({ count: sample.usage.completionTokens, source: 'usage.completion_tokens' });
  if (sample.tokens.length > 0) counts.push({ count: sample.tokens.length, source: 'tokens with logprobs' });
  for (const [i, v] of (sample.variants ?? []).entries()) if (v.tokenIds) counts.push({ count: v.tokenIds.length, source: `repeat variant ${i + 1}` });
  return counts;
}

/** Never more completion tokens than the request allowed: a server that ignores max_tokens can answer without end. Needs no reference. */
export const maxTokens: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase }): Verdict {
    const limit = testCase.params.max_tokens;
    if (limit === undefined) return { check: CHECK, status: 'skip', message: `case ${testCase.id} sets no max_tokens; nothing to hold the answer to` };
    const counts = tokenCounts(sample);
    const over = counts.filter((c) => c.count > limit);
    if (over.length > 0) {
      const worst = over.reduce((a, b) => (b.count > a.count ? b : a));
      return {
        check: CHECK,
        status: 'fail',
        measured: worst.count,
        threshold: limit,
        message: `${worst.count} completion tokens (${worst.source}) for max_tokens ${limit}: the server ignored the limit`,
        details: { counts },
      };
    }
    const bytes = generatedBytes(sample);
    if (bytes > limit * MAX_TOKEN_BYTES)
      return {
        check: CHECK,
        status: 'fail',
        measured: bytes,
        threshold: limit * MAX_TOKEN_BYTES,
        message: `${bytes} bytes of output for max_tokens ${limit}: more than ${limit} tokens of at most ${MAX_TOKEN_BYTES} bytes can hold, so the server ignored the limit`,
        details: { counts, bytes },
      };
    if (counts.length === 0)
      return { check: CHECK, status: 'pass', measured: bytes, threshold: limit * MAX_TOKEN_BYTES, message: `no token count reported; ${bytes} bytes of output fit ${limit} tokens` };
    const most = Math.max(...counts.map((c) => c.count));
    return { check: CHECK, status: 'pass', measured: most, threshold: limit, message: `${most} completion tokens ≤ max_tokens ${limit}`, details: { counts } };
  },
};
