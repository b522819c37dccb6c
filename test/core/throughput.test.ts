// Throughput and cost per 1K tokens from request records whose answers are known.

import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/core/telemetry-types.ts';
import { busyTime, costFigures, maxOverlap, requestCostPer1k, steadyRequests, throughputOf } from '../../src/core/throughput.ts';

function request(startMs: number, endMs: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { caseId: 'c', startMs, endMs, ok: true, streamed: true, ttftMs: 100, promptTokens: 200, completionTokens: 11, fingerprint: 'f', ...extra };
}

describe('busy time and overlap', () => {
  it('counts overlapping intervals once', () => {
    expect(busyTime([[0, 10], [5, 15], [20, 30]])).toBe(25);
    expect(maxOverlap([[0, 10], [5, 15], [20, 30]])).toBe(2);
    expect(maxOverlap([[0, 10], [10, 20]])).toBe(1);
  });
});

describe('throughputOf', () => {
  it('leaves out the first request, failures and answers without usage', () => {
    const records = [request(0, 5000, { promptTokens: 99999 }), request(6000, 7000), request(7000, 8000, { ok: false }), request(8000, 9000, { promptTokens: undefined, completionTokens: undefined })];
    expect(steadyRequests(records).map((r) => r.startMs)).toEqual([6000]);
  });

  it('prefill over TTFT and decode over the rest, separately; tokens/s over busy time', () => {
    // Two steady requests of 1 s each: 200 prompt tokens in 100 ms TTFT, 10 more tokens in 900 ms.
    const t = throughputOf([request(0, 3000), request(3000, 4000), request(4000, 5000)]);
    expect(t).toMatchObject({ requests: 2, inputTokens: 400, outputTokens: 22, busyMs: 2000, streamedRequests: 2, maxInFlight: 1 });
    expect(t.prefillTokensPerSecond).toBeCloseTo(2000, 9);
    expect(t.decodeTokensPerSecond).toBeCloseTo(10 / 0.9, 9);
    expect(t.tokensPerSecond).toBeCloseTo(211, 9);
    expect(t.outputTokensPerSecond).toBeCloseTo(11, 9);
    expect(t.reason).toBeUndefined();
  });

  it('cached prompt tokens are not prefill', () => {
    const t = throughputOf([request(0, 1), request(10, 1010, { cachedPromptTokens: 150 })]);
    expect(t.prefillTokensPerSecond).toBeCloseTo(500, 9);
  });

  it('concurrent requests: busy time is the union, so tokens/s is what the machine delivered', () => {
    const t = throughputOf([request(0, 1), request(10, 1010), request(10, 1010), request(510, 1510)]);
    expect(t.busyMs).toBe(1500);
    expect(t.maxInFlight).toBe(3);
    expect(t.tokensPerSecond).toBeCloseTo((3 * 211) / 1.5, 9);
  });

  it('without streamed requests prefill and decode are null, with the reason; never 0', () => {
    const t = throughputOf([request(0, 1), request(10, 1010, { streamed: false, ttftMs: undefined })]);
    expect(t.prefillTokensPerSecond).toBeNull();
    expect(t.decodeTokensPerSecond).toBeNull();
    expect(t.tokensPerSecond).toBeCloseTo(211, 9);
    expect(t.reason).toMatch(/no streamed request/);
    expect(throughputOf([request(0, 1)]).reason).toMatch(/no request after the first/);
  });
});

describe('cost per 1K tokens', () => {
  const throughput = throughputOf([request(0, 1), request(10, 3610, { ttftMs: 600, promptTokens: 3000, completionTokens: 600 })]);

  it('a machine price: perHour ÷ (3.6 × tokens/s)', () => {
    // 3,600 tokens in 3.6 s: 1,000 tokens/s; 3.60 per hour → 0.001 per 1K tokens.
    const cost = costFigures({ perHour: 3.6, currency: 'EUR', note: 'example' }, throughput);
    expect(cost.per1kTokens).toBeCloseTo(3.6 / (3.6 * 1000), 12);
    expect(cost.per1kOutputTokens).toBeCloseTo(0.0036 / 0.6, 12);
    expect(cost).toMatchObject({ currency: 'EUR', basis: 'per-hour', note: 'example' });
  });

  it('an API price: the price of the tokens actually sent and received', () => {
    const cost = costFigures({ per1kInput: 0.5, per1kOutput: 1.5 }, throughput);
    // 3 × 0.5 + 0.6 × 1.5 = 2.4 for 3,600 tokens.
    expect(cost.per1kTokens).toBeCloseTo(2.4 / 3.6, 12);
    expect(cost.per1kOutputTokens).toBeCloseTo(4, 12);
    expect(cost.currency).toBe('USD');
  });

  it('no steady tokens: null with the reason', () => {
    const cost = costFigures({ perHour: 1 }, throughputOf([request(0, 1)]));
    expect(cost.per1kTokens).toBeNull();
    expect(cost.reason).toMatch(/no steady-state tokens/);
  });

  it('one request: its share of the machine at the stated concurrency', () => {
    const one = { promptTokens: 900, completionTokens: 100, durationMs: 1000 };
    expect(requestCostPer1k({ perHour: 3.6 }, one, 1)).toBeCloseTo(0.001, 12);
    expect(requestCostPer1k({ perHour: 3.6 }, one, 4)).toBeCloseTo(0.00025, 12);
    expect(requestCostPer1k({ per1kInput: 1, per1kOutput: 2 }, one, 4)).toBeCloseTo(1.1, 12);
  });
});
