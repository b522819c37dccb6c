import { extend } from './extend.ts';
import type { CaseResult } from './types.ts';

/**
 * A passing result as `conform run` holds it once it is judged and journaled: the sample's figures (kind,
 * timings, usage, deviations, errors, lifecycle, machine load) stay for the summary, the charts and the
 * console; its answer goes, and samples.jsonl keeps it at `sampleLine`. A result that failed, erred or
 * has no journal line stays whole: reports show those in full.
 */
export function trimmedResult(result: CaseResult): CaseResult {
  if (result.status !== 'pass' || !result.sample || result.sampleLine === undefined) return result;
  const { text: _text, reasoning: _reasoning, tokens: _tokens, toolCalls: _toolCalls, variants: _variants, otherSeeds: _otherSeeds, agent: _agent, ...figures } = result.sample;
  return extend(result, { sample: extend(figures, { text: '', tokens: [], toolCalls: [] }), sampleTrimmed: true });
}
