// What a streamed answer must satisfy on its own, whatever the backend: MLPerf's TEST06 stream checks
// (the first token reported separately equals the output's first token; the token count matches) plus the
// stream failures the issue trackers show (ANCHORS.md, "Errors that look like success"). An error object
// inside a 200 stream, a truncated final chunk or a stream without [DONE] already make the sample a
// `protocol-error`, which evaluateSample turns into a fail (the backend broke the protocol, SHARED-TYPES.md
// rule 5); this check sees only `ok` samples.

import type { CheckSpec, Sample, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';
import { showToken } from './tokens.ts';

const CHECK = 'stream-invariants';

/** Deviations the runner records when a stream itself misbehaved (see runners/normalize.ts, openai-http-runner.ts). */
export function isStreamDeviation(deviation: string): boolean {
  return deviation.startsWith('stream-') || deviation === 'data-after-done';
}

/** One invariant's outcome; `skipped` says why it could not be judged. */
export interface Invariant {
  name: string;
  status: 'pass' | 'fail' | 'skipped';
  note: string;
  measured?: number | string | null;
  threshold?: number | string | null;
}

function received(sample: Sample): boolean {
  return sample.text !== '' || (sample.reasoning ?? '') !== '' || sample.tokens.length > 0 || sample.toolCalls.length > 0;
}

function allowedDeviations(spec: CheckSpec): string[] | string {
  const allow = spec.allowDeviations;
  if (allow === undefined) return [];
  if (!Array.isArray(allow) || !allow.every((d) => typeof d === 'string')) return `${CHECK} option allowDeviations must be a list of deviation names, got ${JSON.stringify(allow)}`;
  return allow;
}

function firstContent(sample: Sample): Invariant {
  const name = 'first-content';
  const { firstTokenMs, firstByteMs, chunkMs, endMs } = sample.timings;
  if (!received(sample)) {
    if (firstTokenMs !== undefined) return { name, status: 'fail', measured: firstTokenMs, threshold: 'undefined', note: `firstTokenMs is ${firstTokenMs} ms but no content, token or tool call arrived` };
    return { name, status: 'skipped', note: 'no content arrived to time' };
  }
  if (firstTokenMs === undefined) return { name, status: 'fail', measured: null, threshold: 'a time', note: 'content arrived but no first-token time was recorded' };
  if (chunkMs.length > 0 && chunkMs[0] !== firstTokenMs)
    return { name, status: 'fail', measured: firstTokenMs, threshold: chunkMs[0]!, note: `firstTokenMs ${firstTokenMs} ms is not the arrival of the first content chunk (${chunkMs[0]} ms)` };
  if (firstByteMs !== undefined && firstTokenMs < firstByteMs)
    return { name, status: 'fail', measured: firstTokenMs, threshold: `≥ ${firstByteMs}`, note: `first token at ${firstTokenMs} ms, before the first byte at ${firstByteMs} ms` };
  if (firstTokenMs > endMs) return { name, status: 'fail', measured: firstTokenMs, threshold: `≤ ${endMs}`, note: `first token at ${firstTokenMs} ms, after the stream ended at ${endMs} ms` };
  for (let i = 1; i < chunkMs.length; i++)
    if (chunkMs[i]! < chunkMs[i - 1]!) return { name, status: 'fail', measured: chunkMs[i]!, threshold: `≥ ${chunkMs[i - 1]}`, note: `content chunk ${i} arrived at ${chunkMs[i]} ms, before chunk ${i - 1} at ${chunkMs[i - 1]} ms` };

  const first = sample.tokens[0];
  if (!first) return { name, status: 'pass', note: `first content at ${firstTokenMs.toFixed(1)} ms (no logprobs to compare its text)` };
  // The final text the first token must start: reasoning streams before content when a server separates it.
  const target = (sample.reasoning ?? '') !== '' ? sample.reasoning! : sample.text;
  const which = target === sample.text ? 'text' : 'reasoning';
  if (target === '') return { name, status: 'pass', note: `first content at ${firstTokenMs.toFixed(1)} ms; no text to compare the first token with (tool call)` };
  // Half a UTF-8 character has no text of its own; servers show it as U+FFFD or an empty string.
  if (first.token === '' || first.token.includes('\uFFFD'))
    return { name, status: 'pass', note: `first content at ${firstTokenMs.toFixed(1)} ms; first token ${showToken(first.token)} is a partial character, text not compared` };
  if (!target.startsWith(first.token))
    return {
      name,
      status: 'fail',
      measured: showToken(first.token),
      threshold: `prefix of ${which}`,
      note: `first streamed token ${showToken(first.token)} does not start the final ${which} ${showToken(target.slice(0, 24))}`,
    };
  return { name, status: 'pass', note: `first token ${showToken(first.token)} at ${firstTokenMs.toFixed(1)} ms starts the ${which}` };
}

function tokenCount(sample: Sample, logprobsRequested: boolean): Invariant {
  const name = 'token-count';
  const usage = sample.usage?.completionTokens;
  if (usage === undefined) return { name, status: 'skipped', note: 'no usage in the stream (conform asks for stream_options.include_usage), token count unchecked' };
  // A server that generated tokens until the limit and delivered none of them lost them in the stream.
  if (usage > 0 && !received(sample) && sample.finishReason === 'length')
    return { name, status: 'fail', measured: 0, threshold: usage, note: `usage reports ${usage} completion tokens and finish_reason "length", but the stream delivered no content, tool call or logprob` };
  if (!logprobsRequested) return { name, status: 'skipped', note: 'logprobs not requested, so the tokens received cannot be counted' };
  if (sample.tokens.length === 0) return { name, status: 'skipped', note: `logprobs requested but the stream carried none (usage says ${usage} tokens), token count unchecked` };
  if (sample.tokens.length !== usage)
    return { name, status: 'fail', measured: sample.tokens.length, threshold: usage, note: `received ${sample.tokens.length} tokens with logprobs, but usage.completion_tokens is ${usage}` };
  return { name, status: 'pass', measured: usage, threshold: usage, note: `${usage} tokens received, as usage reports` };
}

/** Every invariant on one streamed sample, in the order they are reported. */
export function checkStreamInvariants(sample: Sample, logprobsRequested: boolean, allow: readonly string[] = []): Invariant[] {
  const broken = sample.deviations.filter((d) => isStreamDeviation(d) && !allow.includes(d));
  return [
    sample.finishReason === null && !received(sample)
      ? { name: 'not-empty', status: 'fail', measured: 'empty', threshold: 'content or finish_reason', note: 'the stream ended with no content, tokens, tool call or finish_reason: an empty answer passed off as success' }
      : { name: 'not-empty', status: 'pass', note: 'the stream carried an answer' },
    broken.length > 0
      ? { name: 'deviations', status: 'fail', measured: broken.join(', '), threshold: 'none', note: `the runner recorded broken streaming: ${broken.join(', ')}` }
      : { name: 'deviations', status: 'pass', note: 'no stream deviations recorded' },
    firstContent(sample),
    tokenCount(sample, logprobsRequested),
    sample.finishReason === null
      ? { name: 'finish-reason', status: 'fail', measured: null, threshold: 'present', note: 'no finish_reason in any chunk of the stream' }
      : { name: 'finish-reason', status: 'pass', note: `finish_reason ${JSON.stringify(sample.finishReason)}` },
  ];
}

/** The self-consistency of a streamed answer; non-streamed samples are skipped. Needs no reference. */
export const streamInvariants: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase, spec }): Verdict {
    if (!sample.streamed)
      return { check: CHECK, status: 'skip', message: 'the sample was not streamed; stream-invariants applies to cases with params.stream: true' };
    const allow = allowedDeviations(spec);
    if (typeof allow === 'string') return { check: CHECK, status: 'error', message: allow };
    const invariants = checkStreamInvariants(sample, testCase.params.logprobs === true, allow);
    const details = { invariants };
    const failed = invariants.filter((i) => i.status === 'fail');
    const first = failed[0];
    if (first)
      return {
        check: CHECK,
        status: 'fail',
        measured: first.measured ?? null,
        threshold: first.threshold ?? null,
        message: `${first.name}: ${first.note}${failed.length > 1 ? ` (and ${failed.length - 1} more: ${failed.slice(1).map((f) => f.name).join(', ')})` : ''}`,
        details,
      };
    const skipped = invariants.filter((i) => i.status === 'skipped');
    const held = invariants.length - skipped.length;
    return {
      check: CHECK,
      status: 'pass',
      measured: `${held}/${invariants.length}`,
      threshold: 'all invariants',
      message: `${held} stream invariants hold${skipped.length > 0 ? `; unchecked: ${skipped.map((s) => `${s.name} (${s.note})`).join('; ')}` : ''}`,
      details,
    };
  },
};
