// The parts of a Sample that say what the server answered, without when or how often it was asked.

import type { Sample } from '../../../src/core/types.ts';

type Content = Pick<Sample, 'kind' | 'text' | 'reasoning' | 'tokens' | 'toolCalls' | 'finishReason' | 'usage' | 'serverTimings' | 'deviations' | 'error'>;

/** Strips timing, retries and provenance so that two ways of getting the same answer compare equal. */
export function contentOf(sample: Content): Content {
  const { kind, text, reasoning, tokens, toolCalls, finishReason, usage, serverTimings, deviations, error } = sample;
  return JSON.parse(JSON.stringify({ kind, text, reasoning, tokens, toolCalls, finishReason, usage, serverTimings, deviations, error })) as Content;
}
