import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backendLatency, latencyStats, percentile, sampleLatency } from '../../src/core/latency.ts';
import type { Sample, SampleTimings, TokenStep } from '../../src/core/types.ts';
import { createStreamAccumulator } from '../../src/runners/normalize.ts';

function sample(overrides: Partial<Sample> = {}, timings: Partial<SampleTimings> = {}): Sample {
  return {
    kind: 'ok',
    text: '',
    tokens: [],
    toolCalls: [],
    finishReason: 'stop',
    startedAt: '2025-01-01T00:00:00.000Z',
    streamed: true,
    deviations: [],
    retries: 0,
    ...overrides,
    timings: { chunkMs: [], endMs: 0, ...overrides.timings, ...timings },
  };
}

const tokens = (n: number): TokenStep[] => Array.from({ length: n }, (_, i) => ({ token: `t${i}`, logprob: -0.1, top: [] }));

// Latencies as a real run produces them: non-negative, finite, at most a few minutes.
const latency = fc.double({ min: 0, max: 300_000, noNaN: true, noDefaultInfinity: true });
const latencies = fc.array(latency, { minLength: 1, maxLength: 60 });

describe('percentile', () => {
  it.each([
    // [values, p, expected]: hand-computed with rank h = (n − 1) · p / 100.
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 100, 4],
    [[1, 2, 3, 4], 50, 2.5], // h = 1.5
    [[1, 2, 3, 4], 25, 1.75], // h = 0.75
    [[4, 1, 3, 2], 90, 3.7], // unsorted input; h = 2.7
    [[10, 20, 30, 40, 50], 50, 30],
    [[10, 20, 30, 40, 50], 99, 49.6], // h = 3.96
    [[10, 20, 30, 40, 50], 95, 48],
    [[7], 0, 7],
    [[7], 99, 7],
    [[7], 100, 7],
    [[0, 100], 1, 1],
    [[5, 5, 5, 9], 60, 5], // h = 1.8, between two 5s
    [[5, 5, 5, 9], 80, 6.6], // h = 2.4 → 5 + 0.4 · (9 − 5)
  ] as Array<[number[], number, number]>)('percentile(%j, %d) = %d', (values, p, expected) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 12);
  });

  it('agrees with NumPy (method="linear") on a recorded example', () => {
    // numpy.percentile([3.1, 0.4, 9.9, 2.2, 5.0, 7.3, 1.1], [50, 90, 95, 99]) → [3.1, 8.34, 9.12, 9.744]
    const values = [3.1, 0.4, 9.9, 2.2, 5.0, 7.3, 1.1];
    expect(percentile(values, 50)).toBeCloseTo(3.1, 12);
    expect(percentile(values, 90)).toBeCloseTo(8.34, 12);
    expect(percentile(values, 95)).toBeCloseTo(9.12, 12);
    expect(percentile(values, 99)).toBeCloseTo(9.744, 12);
  });

  it('is the minimum at p0 and the maximum at p100', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        expect(percentile(values, 0)).toBe(Math.min(...values));
        expect(percentile(values, 100)).toBe(Math.max(...values));
      }),
    );
  });

  it('is monotone in p and stays within [min, max]', () => {
    fc.assert(
      fc.property(latencies, fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (values, p, q) => {
        const [lo, hi] = p <= q ? [p, q] : [q, p];
        const a = percentile(values, lo);
        const b = percentile(values, hi);
        expect(a).toBeLessThanOrEqual(b);
        expect(a).toBeGreaterThanOrEqual(Math.min(...values));
        expect(b).toBeLessThanOrEqual(Math.max(...values));
      }),
    );
  });

  it('does not depend on the order of the values and leaves them unsorted', () => {
    fc.assert(
      fc.property(latencies, fc.double({ min: 0, max: 100, noNaN: true }), (values, p) => {
        const copy = [...values];
        expect(percentile([...values].reverse(), p)).toBe(percentile(values, p));
        expect(values).toEqual(copy);
      }),
    );
  });

  it('is the value itself when every value is the same', () => {
    fc.assert(
      fc.property(latency, fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 100, noNaN: true }), (v, n, p) => {
        expect(percentile(Array(n).fill(v), p)).toBe(v);
      }),
    );
  });

  it('interpolates between values whose difference overflows', () => {
    expect(percentile([-Number.MAX_VALUE, Number.MAX_VALUE], 50)).toBe(0);
    expect(percentile([-Number.MAX_VALUE, Number.MAX_VALUE], 75) / (Number.MAX_VALUE / 2)).toBeCloseTo(1, 12);
  });

  it('rejects no values, non-finite values and ranks outside [0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(RangeError);
    expect(() => percentile([1, Number.POSITIVE_INFINITY], 50)).toThrow(RangeError);
    expect(() => percentile([1, 2], -1)).toThrow(RangeError);
    expect(() => percentile([1, 2], 100.5)).toThrow(RangeError);
    expect(() => percentile([1, 2], Number.NaN)).toThrow(RangeError);
  });
});

describe('latencyStats', () => {
  it('summarizes a known array', () => {
    const values = Array.from({ length: 101 }, (_, i) => 100 - i); // 0..100, reversed
    expect(latencyStats(values)).toEqual({ count: 101, mean: 50, p50: 50, p90: 90, p95: 95, p99: 99, min: 0, max: 100 });
  });

  it('gives nulls, not NaN, for no values', () => {
    expect(latencyStats([])).toEqual({ count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, min: null, max: null });
  });

  it('orders min ≤ p50 ≤ p90 ≤ p95 ≤ p99 ≤ max and keeps the mean within [min, max]', () => {
    fc.assert(
      fc.property(latencies, (values) => {
        const s = latencyStats(values);
        expect(s.count).toBe(values.length);
        const ordered = [s.min, s.p50, s.p90, s.p95, s.p99, s.max] as number[];
        for (let i = 1; i < ordered.length; i++) expect(ordered[i - 1]).toBeLessThanOrEqual(ordered[i]!);
        expect(s.mean).toBeGreaterThanOrEqual(s.min!);
        expect(s.mean).toBeLessThanOrEqual(s.max!);
        expect(s.p99).toBe(percentile(values, 99));
      }),
    );
  });

  it('keeps the mean of equal values equal to them despite rounding', () => {
    expect(latencyStats([0.1, 0.1, 0.1]).mean).toBe(0.1);
  });
});

describe('sampleLatency', () => {
  it('computes TPOT as (E2EL − TTFT) / (n − 1) with n from usage', () => {
    // 10 tokens: the first at 120 ms, the body ends at 300 ms → 180 ms over the 9 tokens after the first.
    const s = sample({ usage: { promptTokens: 5, completionTokens: 10 } }, { firstTokenMs: 120, chunkMs: [120, 140, 160, 180, 200, 220, 240, 260, 280, 290], endMs: 300 });
    const l = sampleLatency(s);
    expect(l.ttftMs).toBe(120);
    expect(l.e2elMs).toBe(300);
    expect(l.outputTokens).toBe(10);
    expect(l.outputTokensSource).toBe('usage');
    expect(l.tpotMs).toBeCloseTo(20, 12);
  });

  it('takes n from usage before logprob tokens, and from tokens before chunks', () => {
    const timings = { firstTokenMs: 10, chunkMs: [10, 20, 30], endMs: 40 };
    const fromUsage = sampleLatency(sample({ usage: { promptTokens: 1, completionTokens: 7 }, tokens: tokens(3) }, timings));
    expect([fromUsage.outputTokens, fromUsage.outputTokensSource, fromUsage.tpotMs]).toEqual([7, 'usage', 5]);
    const fromTokens = sampleLatency(sample({ tokens: tokens(4) }, timings));
    expect([fromTokens.outputTokens, fromTokens.outputTokensSource, fromTokens.tpotMs]).toEqual([4, 'logprobs', 10]);
    const fromChunks = sampleLatency(sample({}, timings));
    expect([fromChunks.outputTokens, fromChunks.outputTokensSource, fromChunks.tpotMs]).toEqual([3, 'chunks', 15]);
  });

  it('has no TPOT for fewer than two output tokens', () => {
    const one = sampleLatency(sample({ usage: { promptTokens: 1, completionTokens: 1 } }, { firstTokenMs: 10, chunkMs: [10], endMs: 12 }));
    expect(one.ttftMs).toBe(10);
    expect(one.tpotMs).toBeUndefined();
    const none = sampleLatency(sample({ usage: { promptTokens: 1, completionTokens: 0 } }, { chunkMs: [], endMs: 12 }));
    expect(none.tpotMs).toBeUndefined();
    expect(none.outputTokens).toBe(0);
  });

  it('has no TTFT, TPOT or ITL for a stream that only ever sent the role', () => {
    // Through the real stream accumulator, so the test follows the runner's idea of a content-carrying event.
    const acc = createStreamAccumulator('chat');
    acc.onData(JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }), 3);
    acc.onData(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), 9);
    acc.onData(JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 0, total_tokens: 4 } }), 9);
    acc.onData('[DONE]', 10);
    const result = acc.finish(11);
    const l = sampleLatency(sample({ ...result, kind: 'ok' }));
    expect(l.ttftMs).toBeUndefined();
    expect(l.tpotMs).toBeUndefined();
    expect(l.itlMs).toEqual([]);
    expect(l.itlPerTokenMs).toEqual([]);
    expect(l.e2elMs).toBe(11);
  });

  it('takes TTFT and ITL from the content events the accumulator timed', () => {
    const acc = createStreamAccumulator('chat');
    acc.onData(JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant' } }] }), 2);
    acc.onData(JSON.stringify({ choices: [{ index: 0, delta: { content: 'a' } }] }), 50);
    acc.onData(JSON.stringify({ choices: [{ index: 0, delta: { content: 'b' } }] }), 58);
    acc.onData(JSON.stringify({ choices: [{ index: 0, delta: { content: 'c' } }] }), 58); // same network read
    acc.onData(JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } }), 70);
    acc.onData('[DONE]', 70);
    const l = sampleLatency(sample({ ...acc.finish(72), kind: 'ok' }));
    expect(l.ttftMs).toBe(50);
    expect(l.itlMs).toEqual([8, 0]);
    expect(l.itlPerTokenMs).toEqual([8, 0]);
    expect(l.tpotMs).toBe(11);
  });

  it('gives one ITL gap per pair of consecutive chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { maxLength: 40 }), (gaps) => {
        const chunkMs = [5];
        for (const g of gaps) chunkMs.push(chunkMs[chunkMs.length - 1]! + g);
        const l = sampleLatency(sample({}, { firstTokenMs: 5, chunkMs, endMs: chunkMs[chunkMs.length - 1]! + 1 }));
        expect(l.itlMs).toHaveLength(gaps.length);
        l.itlMs.forEach((gap, i) => expect(gap).toBeCloseTo(gaps[i]!, 9));
      }),
    );
  });
});

describe('ITL per token', () => {
  const packed = { firstTokenMs: 100, chunkMs: [100, 130, 160, 190], endMs: 200 };

  it('is one token per chunk when the logprob tokens match the chunks one to one', () => {
    const l = sampleLatency(sample({ tokens: tokens(4), usage: { promptTokens: 1, completionTokens: 5 } }, packed));
    expect(l.tokensPerChunk).toBe(1);
    expect(l.itlPerTokenMs).toEqual(l.itlMs);
  });

  it('spreads usage tokens evenly over chunks a server packed (vLLM sends several tokens per chunk)', () => {
    // 12 tokens in 4 chunks: 3 per chunk, so a 30 ms gap between chunks is 10 ms per token.
    const l = sampleLatency(sample({ usage: { promptTokens: 1, completionTokens: 12 } }, packed));
    expect(l.itlMs).toEqual([30, 30, 30]);
    expect(l.tokensPerChunk).toBe(3);
    expect(l.itlPerTokenMs).toEqual([10, 10, 10]);
    // TPOT is unaffected by packing: (200 − 100) / 11.
    expect(l.tpotMs).toBeCloseTo(100 / 11, 12);
  });

  it('spreads logprob tokens evenly when they do not match the chunks and usage is missing', () => {
    const l = sampleLatency(sample({ tokens: tokens(8) }, packed));
    expect(l.tokensPerChunk).toBe(2);
    expect(l.itlPerTokenMs).toEqual([15, 15, 15]);
  });

  it('uses each chunk’s own token count: 16 tokens in chunks of 3 give the true per-token ITL', () => {
    // A decoder at 3.43 ms per token that sends its first token alone, then five chunks of three, each with its
    // tokens' logprobs. An even spread reads 16 / 6 = 2.67 tokens per chunk, and 3.86 ms per token.
    const perToken = 3.43;
    const sizes = [1, 3, 3, 3, 3, 3];
    const acc = createStreamAccumulator('chat');
    let at = 40;
    let n = 0;
    for (const size of sizes) {
      at += size * perToken;
      const content = Array.from({ length: size }, () => ({ token: `t${n}`, id: n++, logprob: -0.5, top_logprobs: [] }));
      acc.onData(JSON.stringify({ choices: [{ index: 0, delta: { content: content.map((c) => c.token).join('') }, logprobs: { content } }] }), at);
    }
    acc.onData(JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 16 } }), at);
    acc.onData('[DONE]', at);
    const streamed = { ...acc.finish(at + 1), kind: 'ok' as const };
    expect(streamed.timings.chunkTokens).toEqual(sizes);
    const l = sampleLatency(sample(streamed));
    expect(l.tokensPerChunkSource).toBe('chunk-logprobs');
    expect(l.itlPerTokenMs).toHaveLength(5);
    for (const gap of l.itlPerTokenMs) expect(gap).toBeCloseTo(perToken, 9);
    // The even spread, for comparison, is what conform reported before it read each chunk's count.
    const spread = sampleLatency(sample({ ...streamed, tokens: [], timings: { ...streamed.timings, chunkTokens: undefined } }));
    expect(spread.tokensPerChunkSource).toBe('even-spread');
    expect(spread.itlPerTokenMs[0]).toBeCloseTo((3 * perToken) / (16 / 6), 9);
  });

  it('falls back to the even spread when a chunk’s count is unknown', () => {
    const l = sampleLatency(sample({ usage: { promptTokens: 1, completionTokens: 12 } }, { ...packed, chunkTokens: [3, 3, 3] }));
    expect(l.tokensPerChunkSource).toBe('even-spread');
    expect(l.itlPerTokenMs).toEqual([10, 10, 10]);
  });

  it('is not given when no token count is known', () => {
    const l = sampleLatency(sample({}, packed));
    expect(l.itlMs).toEqual([30, 30, 30]);
    expect(l.tokensPerChunk).toBeUndefined();
    expect(l.itlPerTokenMs).toEqual([]);
  });

  it('adds up to the same time as per-chunk ITL once multiplied back by the tokens per chunk', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 200 }), (gaps, n) => {
        const chunkMs = [1];
        for (const g of gaps) chunkMs.push(chunkMs[chunkMs.length - 1]! + g);
        const l = sampleLatency(sample({ usage: { promptTokens: 1, completionTokens: n } }, { firstTokenMs: 1, chunkMs, endMs: chunkMs[chunkMs.length - 1]! }));
        expect(l.tokensPerChunk).toBeCloseTo(n / chunkMs.length, 12);
        const back = l.itlPerTokenMs.reduce((s, g) => s + g * l.tokensPerChunk!, 0);
        expect(back).toBeCloseTo(l.itlMs.reduce((s, g) => s + g, 0), 6);
      }),
    );
  });
});

describe('backendLatency', () => {
  it('takes TTFT, ITL and TPOT from ok streamed samples and E2EL from every ok sample', () => {
    const streamedA = sample({ usage: { promptTokens: 1, completionTokens: 3 } }, { firstTokenMs: 10, chunkMs: [10, 20, 40], endMs: 50 });
    const streamedB = sample({ usage: { promptTokens: 1, completionTokens: 2 } }, { firstTokenMs: 30, chunkMs: [30, 35], endMs: 40 });
    const whole = sample({ streamed: false }, { chunkMs: [], endMs: 70 });
    // Streamed although not asked to (a 'stream-not-requested' deviation): E2EL counts, its first token does not.
    const unasked = sample({ streamed: false, usage: { promptTokens: 1, completionTokens: 2 } }, { firstTokenMs: 1, chunkMs: [1, 2], endMs: 60 });
    const roleOnly = sample({}, { chunkMs: [], endMs: 5 });
    const failed = sample({ kind: 'timeout' }, { firstTokenMs: 1, chunkMs: [1, 2], endMs: 1000 });
    const b = backendLatency([streamedA, streamedB, whole, unasked, roleOnly, failed]);
    expect(b.ttftMs).toMatchObject({ count: 2, min: 10, max: 30, mean: 20 });
    expect(b.e2elMs).toMatchObject({ count: 5, min: 5, max: 70 });
    expect(b.itlMs).toMatchObject({ count: 3, min: 5, max: 20 }); // pooled: [10, 20] and [5]
    expect(b.itlPerTokenMs).toMatchObject({ count: 3, min: 5, max: 20 });
    expect(b.tpotMs).toMatchObject({ count: 2, min: 10, max: 20 }); // (50−10)/2 and (40−30)/1
  });

  it('gives empty stats for a backend with no usable samples', () => {
    const b = backendLatency([sample({ kind: 'crash' }, { endMs: 3 })]);
    for (const stats of Object.values(b)) expect(stats.count).toBe(0);
    expect(b.ttftMs.p99).toBeNull();
  });
});
