// Faults in how the answer travelled: the stream, usage and timings.
import type { Sample } from '../core/types.ts';
import { clone, type FaultDefinition } from './fault.ts';

const streamed = (s: Sample) => s.streamed && s.kind === 'ok';

export const truncatedStream: FaultDefinition = {
  name: 'truncated-stream',
  kind: 'must-catch',
  backend: 'other',
  description: 'the stream stops half-way without a finish_reason or [DONE]: a protocol-error keeping what arrived',
  expect: ['sample'],
  applies: (c) => c.params.stream === true,
  apply(sample) {
    if (!streamed(sample)) return sample;
    const half = Math.floor(sample.tokens.length / 2);
    return {
      ...sample,
      kind: 'protocol-error',
      text: sample.text.slice(0, Math.floor(sample.text.length / 2)),
      tokens: sample.tokens.slice(0, half),
      finishReason: null,
      error: { message: 'stream ended without a finish_reason or [DONE] (truncated)' },
    };
  },
};

export const errorInStream: FaultDefinition = {
  name: 'error-in-200-stream',
  kind: 'must-catch',
  backend: 'other',
  description: 'an {"error": …} object inside a 200 stream: protocol-error',
  expect: ['sample'],
  applies: (c) => c.params.stream === true,
  apply(sample) {
    if (!streamed(sample)) return sample;
    return { ...sample, kind: 'protocol-error', finishReason: null, error: { message: 'error object in a 200 stream: {"error":{"message":"slot unavailable"}}', code: 'stream-error' } };
  },
};

export const usageWrong: FaultDefinition = {
  name: 'usage-wrong',
  kind: 'must-catch',
  backend: 'other',
  description: 'streamed usage.completion_tokens off by 3',
  expect: ['stream-invariants'],
  applies: (c) => c.params.stream === true,
  apply(sample) {
    if (!streamed(sample) || !sample.usage) return sample;
    return { ...sample, usage: { ...sample.usage, completionTokens: sample.usage.completionTokens + 3 } };
  },
};

export const ttftInflated: FaultDefinition = {
  name: 'ttft-inflated-2x',
  kind: 'must-catch',
  backend: 'other',
  description: 'time to first token doubled on every streamed sample (chunk and end times shifted with it); caught by the gate latency test, not per case',
  expect: ['gate:latency-regression'],
  applies: (c) => c.params.stream === true,
  apply(sample) {
    const first = sample.timings.firstTokenMs;
    if (!streamed(sample) || first === undefined) return sample;
    const timings = clone(sample.timings);
    timings.firstTokenMs = first * 2;
    timings.chunkMs = timings.chunkMs.map((t) => t + first);
    timings.endMs += first;
    return { ...sample, timings };
  },
};
