import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latencySlo, sloOptions, type SloResult } from '../../src/assertions/latency-slo.ts';
import type { Sample } from '../../src/core/types.ts';
import { input, sample, step } from './samples.ts';

const check = (s: Sample, limits: Record<string, unknown>) => latencySlo.compare(input({ sample: s, spec: { kind: 'latency-slo', ...limits } }));

/** A streamed answer: first token at `ttft`, end at `e2el`, `n` tokens by usage. */
function streamed(ttft: number, e2el: number, n: number, overrides: Partial<Sample> = {}): Sample {
  const chunkMs = Array.from({ length: n }, (_, i) => ttft + ((e2el - ttft) * i) / Math.max(1, n - 1));
  return sample({
    streamed: true,
    text: 'x'.repeat(n),
    usage: { promptTokens: 10, completionTokens: n },
    timings: { firstByteMs: ttft / 2, firstTokenMs: ttft, chunkMs, endMs: e2el },
    ...overrides,
  });
}

describe('latency-slo: table', () => {
  it('passes a stream within MLPerf llama3.1-8b Interactive limits and reports the tightest metric', () => {
    // TTFT 300 ms, E2EL 300 + 127 × 20 ms: TPOT (E2EL − TTFT)/(n − 1) = 20 ms.
    const v = check(streamed(300, 300 + 127 * 20, 128), { ttftMs: 500, tpotMs: 30 });
    expect(v.status).toBe('pass');
    expect(v.measured as number).toBeCloseTo(20, 9);
    expect(v.threshold).toBe(30);
    expect(v.message).toBe('within limits: TPOT 20.0 ms ≤ 30.0 ms, TTFT 300.0 ms ≤ 500.0 ms');
  });

  it('must catch: TTFT over its limit', () => {
    const v = check(streamed(2400, 2600, 11), { ttftMs: 2000 });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(2400);
    expect(v.threshold).toBe(2000);
    expect(v.message).toBe('over its latency limit: TTFT 2400.0 ms > 2000.0 ms');
  });

  it('must catch: TPOT over its limit, by the vLLM/MLPerf definition (first token excluded)', () => {
    // 11 tokens, 100 ms to the first, 1100 ms in all: (1100 − 100) / 10 = 100 ms, not GuideLLM's 1100 / 11.
    const v = check(streamed(100, 1100, 11), { tpotMs: 99 });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(100);
    expect(check(streamed(100, 1100, 11), { tpotMs: 100 }).status).toBe('pass');
  });

  it('must catch: E2EL over its limit, streamed or not', () => {
    expect(check(streamed(100, 5000, 10), { e2elMs: 4000 }).measured).toBe(5000);
    const whole = sample({ text: 'hi', timings: { firstByteMs: 4900, chunkMs: [], endMs: 5000 } });
    const v = check(whole, { e2elMs: 4000 });
    expect(v.status).toBe('fail');
    expect(v.message).toBe('over its latency limit: E2EL 5000.0 ms > 4000.0 ms');
  });

  it('reports the worst violation by its ratio to the limit, and lists all of them', () => {
    // TTFT 1.2× its limit, TPOT 2× its limit: TPOT is the worst.
    const v = check(streamed(600, 600 + 9 * 60, 10), { ttftMs: 500, tpotMs: 30, e2elMs: 10_000 });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(60);
    expect(v.threshold).toBe(30);
    expect(v.message).toBe('over its latency limit: TPOT 60.0 ms > 30.0 ms, TTFT 600.0 ms > 500.0 ms');
  });

  it('counts tokens from usage, else from logprob tokens', () => {
    const noUsage = streamed(100, 1000, 10, { usage: undefined, tokens: Array.from({ length: 10 }, () => step('x', -0.1)) });
    const v = check(noUsage, { tpotMs: 1000 });
    expect(v.measured).toBe(100);
    expect(v.details).toMatchObject({ outputTokens: 10, outputTokensSource: 'logprobs' });
    expect(check(streamed(100, 1000, 10), { tpotMs: 1000 }).details).toMatchObject({ outputTokensSource: 'usage' });
  });

  it('does not time a first token on a non-streamed answer: TTFT and TPOT unmeasured, E2EL still judged', () => {
    const whole = sample({ text: 'hello', usage: { promptTokens: 3, completionTokens: 5 }, timings: { firstByteMs: 90, chunkMs: [], endMs: 100 } });
    const v = check(whole, { ttftMs: 1, tpotMs: 1, e2elMs: 200 });
    expect(v.status).toBe('pass');
    expect(v.message).toBe('within limits: E2EL 100.0 ms ≤ 200.0 ms; not measured: TTFT (not streamed), TPOT (not streamed)');
  });

  it('skips when no limited metric can be measured', () => {
    const whole = sample({ text: 'hello', timings: { chunkMs: [], endMs: 100 } });
    const v = check(whole, { ttftMs: 500 });
    expect(v.status).toBe('skip');
    expect(v.message).toBe('no limited metric could be measured; not measured: TTFT (not streamed)');
    const oneToken = streamed(100, 120, 1);
    expect(check(oneToken, { tpotMs: 10 }).message).toContain('TPOT (fewer than 2 output tokens (1))');
    const roleOnly = sample({ streamed: true, timings: { firstByteMs: 5, chunkMs: [], endMs: 6 } });
    expect(check(roleOnly, { ttftMs: 10 }).message).toContain('TTFT (no content arrived)');
  });

  it('errors when the case sets no limit, or a limit that is not a positive number', () => {
    const s = streamed(100, 200, 3);
    expect(check(s, {}).message).toMatch(/sets no limit: give at least one of ttftMs, tpotMs, e2elMs/);
    for (const bad of [{ ttftMs: 0 }, { tpotMs: -5 }, { e2elMs: '2s' }, { ttftMs: Number.NaN }]) expect(check(s, bad).status).toBe('error');
    expect(sloOptions({ kind: 'latency-slo', ttftMs: 500, other: 1 })).toEqual({ ttftMs: 500 });
  });

  it('puts every limit in details, measured or not', () => {
    const v = check(streamed(100, 1000, 10), { ttftMs: 500, e2elMs: 900 });
    const results = v.details?.results as SloResult[];
    expect(results.map((r) => [r.metric, r.measuredMs, r.ok])).toEqual([
      ['ttftMs', 100, true],
      ['e2elMs', 1000, false],
    ]);
  });
});

// --- Properties -------------------------------------------------------------------------------

const timing = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 300 }), fc.boolean())
  .map(([ttft, decode, n, isStreamed]) =>
    isStreamed ? streamed(ttft, ttft + decode, n) : sample({ text: 'x', usage: { promptTokens: 1, completionTokens: n }, timings: { chunkMs: [], endMs: ttft + decode } }),
  );
const limit = fc.option(fc.integer({ min: 1, max: 30_000 }), { nil: undefined });
type Limits = { ttftMs?: number; tpotMs?: number; e2elMs?: number };
const limits: fc.Arbitrary<Limits> = fc.record({ ttftMs: limit, tpotMs: limit, e2elMs: limit }).filter((l) => Object.values(l).some((x) => x !== undefined));
const looser = fc
  .tuple(limits, fc.nat({ max: 5000 }), fc.nat({ max: 5000 }), fc.nat({ max: 5000 }), fc.boolean())
  .map(([l, a, b, c, drop]): [Limits, Limits] => [
    l,
    {
      ttftMs: l.ttftMs === undefined ? undefined : l.ttftMs + a,
      tpotMs: l.tpotMs === undefined ? undefined : l.tpotMs + b,
      // Dropping a limit is the loosest change of all, as long as another one remains.
      e2elMs: l.e2elMs === undefined || (drop && (l.ttftMs !== undefined || l.tpotMs !== undefined)) ? undefined : l.e2elMs + c,
    },
  ]);

describe('latency-slo: properties', () => {
  it('monotone in limits: looser limits never turn a pass into a fail', () => {
    fc.assert(
      fc.property(timing, looser, (s, [tight, loose]) => {
        // A pass may become a skip when the dropped limit was the only one measurable here.
        if (check(s, tight).status === 'pass') expect(['pass', 'skip']).toContain(check(s, loose).status);
        if (check(s, loose).status === 'fail') expect(check(s, tight).status).toBe('fail');
      }),
      { numRuns: 500 },
    );
  });

  it('fails exactly when some measured metric exceeds its limit, and then reports a violated one', () => {
    fc.assert(
      fc.property(timing, limits, (s, l) => {
        const v = check(s, l);
        const results = (v.details?.results as SloResult[]) ?? [];
        const violated = results.some((r) => r.measuredMs !== undefined && r.measuredMs > r.limitMs);
        expect(v.status === 'fail').toBe(violated);
        if (v.status === 'fail') expect(v.measured as number).toBeGreaterThan(v.threshold as number);
      }),
      { numRuns: 500 },
    );
  });
});

describe('latency-slo limits per backend class', () => {
  it('takes the class limit when one is given, the default otherwise', async () => {
    const { latencySlo } = await import('../../src/assertions/latency-slo.ts');
    const { input, sample } = await import('./samples.ts');
    const slow = sample({ streamed: true, text: 'hi', timings: { firstTokenMs: 4000, chunkMs: [4000], endMs: 4100 } });
    const spec = { kind: 'latency-slo', ttftMs: { default: 1000, 'software-gpu': 30000 } };
    expect(latencySlo.compare({ ...input({ sample: slow, spec }), backendClass: 'software-gpu' }).status).toBe('pass');
    expect(latencySlo.compare({ ...input({ sample: slow, spec }), backendClass: 'cpu' }).status).toBe('fail');
  });
});

describe('latency-slo on a busy machine', () => {
  // A 4K-token prompt on software Vulkan: 16 s of prefill quiet, 64 s measured with the backend waiting 48 s for a CPU.
  const loaded = (wallMs: number, waitMs: number) => ({ slowdown: wallMs / (wallMs - waitMs), cpuWaitMs: waitMs, wallMs });

  it('passes a TTFT over its limit only by the time the backend waited for a CPU, and says so', () => {
    const v = check(streamed(64_000, 65_000, 16, { machine: loaded(65_000, 48_750) }), { ttftMs: 30_000 });
    expect(v.status).toBe('pass');
    expect(v.measured).toBe(64_000);
    expect(v.message).toBe(
      "within limits: TTFT 64000.0 ms (16000.0 ms without the CPU wait) ≤ 30000.0 ms; machine was slow: the backend's processes waited 48.8 s of 65.0 s for a CPU (4.0× slowdown); E2EL 16.3 s without the wait",
    );
    expect((v.details!.results as SloResult[])[0]).toMatchObject({ withoutWaitMs: 16_000, excused: true, ok: true });
  });

  it('must catch: a TTFT over its limit even without the wait', () => {
    const v = check(streamed(64_000, 65_000, 16, { machine: loaded(65_000, 13_000) }), { ttftMs: 30_000 });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/^over its latency limit: TTFT 64000\.0 ms \(51200\.0 ms without the CPU wait\) > 30000\.0 ms; machine was slow/);
  });

  it('leaves a verdict as it was when the backend never waited', () => {
    const quiet = check(streamed(2400, 2600, 11, { machine: loaded(2600, 0) }), { ttftMs: 2000 });
    expect(quiet).toMatchObject({ status: 'fail', message: 'over its latency limit: TTFT 2400.0 ms > 2000.0 ms' });
  });
});
