import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_MEAN_KLD,
  DEFAULT_MAX_RMS_DELTA_P,
  distribution,
  distributionStats,
  PROBABILITY_FLOOR,
  topKKld,
  unionDistributions,
} from '../../src/assertions/distribution.ts';
import { resolveTolerance } from '../../src/core/tolerance.ts';
import type { CheckSpec, Sample, Tolerance, TokenStep, TopLogprob, Verdict } from '../../src/core/types.ts';
import { normalizeCompletion } from '../../src/runners/normalize.ts';
import { input, sample, step, tokenSample } from './samples.ts';

const compare = (reference: Sample, got: Sample, options: Record<string, unknown> = {}): Verdict =>
  distribution.compare(input({ sample: got, reference, spec: { kind: 'distribution', ...options } }));

const top = (pairs: Array<[string, number]>): TopLogprob[] => pairs.map(([token, logprob]) => ({ token, logprob }));

/** A sequence of `n` steps, each a fixed 4-token distribution with chosen token `t<i>`. */
function steady(n: number, shift = 0): TokenStep[] {
  return Array.from({ length: n }, (_, i) =>
    step(`t${i}`, -0.2 + shift, [[`t${i}`, -0.2 + shift], ['x', -2.2 - shift], ['y', -3 - shift], ['z', -4]]),
  );
}

// --- Real exchanges: llama.cpp b4748, CPU vs Vulkan on llvmpipe (test/fixtures/llama-server-b4748/README.md).
const FIXTURES = new URL('../fixtures/llama-server-b4748/', import.meta.url);
function captured(backend: 'cpu' | 'vulkan', name: string): Sample {
  const raw = readFileSync(new URL(`${backend}/${name}.response.http`, FIXTURES), 'utf8');
  const normalized = normalizeCompletion(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'chat');
  return sample({ ...normalized });
}

describe('distribution: real CPU/Vulkan captures (llama.cpp b4748, top-5 logprobs)', () => {
  it('chat-logprobs: measures mean KLD 9.8e-4 over the 14 shared tokens and the divergence at 14', () => {
    const v = compare(captured('cpu', 'chat-logprobs'), captured('vulkan', 'chat-logprobs'));
    expect(v.details?.divergenceIndex).toBe(14);
    expect(v.details?.n).toBe(15);
    expect(v.details?.meanKld as number).toBeCloseTo(9.835e-4, 6);
    expect(v.details?.sameTopRate as number).toBeCloseTo(14 / 15, 9);
    expect(v.details?.sameTopStdErr as number).toBeCloseTo(Math.sqrt(((14 / 15) * (1 / 15)) / 14), 9);
    // A healthy pair: the defaults were calibrated on these captures and must let them pass.
    expect(v.status).toBe('pass');
    expect(v.details?.rmsDeltaP as number).toBeCloseTo(0.01348, 5);
    // At q8_0's level (1.2%) the same drift would be flagged: the gate is tight, not blind.
    expect(compare(captured('cpu', 'chat-logprobs'), captured('vulkan', 'chat-logprobs'), { maxRmsDeltaP: 0.012 }).status).toBe('fail');
  });

  it('chat-logprobs-long (3K-token prompt): the largest healthy drift measured, 4.0e-3 mean KLD, passes the 5e-3 gate', () => {
    const v = compare(captured('cpu', 'chat-logprobs-long'), captured('vulkan', 'chat-logprobs-long'));
    expect(v.status).toBe('pass');
    expect(v.details?.meanKld as number).toBeCloseTo(4.026e-3, 6);
    expect(v.details?.divergenceIndex).toBe(6);
    const strict = compare(captured('cpu', 'chat-logprobs-long'), captured('vulkan', 'chat-logprobs-long'), { maxMeanKld: 1e-3, maxRmsDeltaP: 0.012 });
    expect(strict.status).toBe('fail');
    expect(strict.message).toContain('mean KLD 4.03e-3 > 0.001');
    expect(strict.message).toContain('RMS Δp 1.96% > 1.20%');
  });

  it('a capture against itself passes with zero divergence', () => {
    const cpu = captured('cpu', 'chat-logprobs');
    const v = compare(cpu, structuredClone(cpu));
    expect(v.status).toBe('pass');
    expect(v.measured).toBe(0);
    expect(v.details).toMatchObject({ meanKld: 0, maxKld: 0, rmsDeltaP: 0, sameTopRate: 1, n: 32, divergenceIndex: null });
  });
});

describe('distribution: table', () => {
  it('passes small kernel noise: logprobs moved by 0.002 nats', () => {
    const v = compare(tokenSample(steady(8)), tokenSample(steady(8, 0.002)));
    expect(v.status).toBe('pass');
    expect(v.measured as number).toBeLessThan(1e-5);
    expect(v.threshold).toBe(DEFAULT_MAX_MEAN_KLD);
    expect(v.message).toMatch(/^distributions close to golden: mean KLD/);
  });

  it('must catch: distributions that moved (the chosen token loses 0.2 nats to the runner-up) fail on mean KLD', () => {
    const v = compare(tokenSample(steady(8)), tokenSample(steady(8, -0.2)));
    expect(v.status).toBe('fail');
    expect(v.measured as number).toBeGreaterThan(DEFAULT_MAX_MEAN_KLD);
    expect(v.threshold).toBe(DEFAULT_MAX_MEAN_KLD);
    expect(v.message).toMatch(/^mean KLD .* > 0\.005/);
    expect(v.details?.n).toBe(8);
  });

  it("cpu-q8 carries its own RMS Δp limit, 0.03 (Q8_0's measured 2.40% x 1.25), shown in the verdict; cpu keeps 0.025", () => {
    const golden = [step('a', -0.1, [['a', -0.1], ['b', -3]]), step('c', -0.1, [['c', -0.1], ['d', -3]])];
    const shifted = (d: number) => tokenSample(golden.map((s) => step(s.token, s.logprob! - d, s.top.map((t): [string, number] => [t.token, t.logprob - d]))));
    const inClass = (got: Sample, tolerance: Tolerance, options: Record<string, unknown> = {}) =>
      distribution.compare(input({ sample: got, reference: tokenSample(golden), tolerance, spec: { kind: 'distribution', ...options } }));
    // Δp = e^-0.1 − e^-(0.1 + d): 2.80% for d = 0.0315, 4.00% for d = 0.0453.
    const q8Sized = shifted(0.0315);
    const q8 = inClass(q8Sized, resolveTolerance('cpu-q8'));
    expect(q8.status).toBe('pass');
    expect(q8.details?.thresholds).toEqual({ maxMeanKld: DEFAULT_MAX_MEAN_KLD, maxRmsDeltaP: 0.03 });
    expect(inClass(q8Sized, resolveTolerance('cpu'))).toMatchObject({ status: 'fail', threshold: DEFAULT_MAX_RMS_DELTA_P });
    expect(inClass(shifted(0.0453), resolveTolerance('cpu-q8'))).toMatchObject({ status: 'fail', threshold: 0.03 });
    // The check's own option wins over the class's; a bad class limit is an error that names where it came from.
    expect(inClass(q8Sized, resolveTolerance('cpu-q8'), { maxRmsDeltaP: 0.025 }).status).toBe('fail');
    expect(inClass(q8Sized, { ...resolveTolerance('cpu'), distribution: { maxRmsDeltaP: -1 } }).message).toBe('distribution tolerance distribution.maxRmsDeltaP must be a number ≥ 0, got -1');
  });

  it('must catch: a uniform shift of mass into the unlisted tail is invisible to top-k KLD but not to RMS Δp', () => {
    const golden = [step('a', -0.1, [['a', -0.1], ['b', -3]]), step('c', -0.1, [['c', -0.1], ['d', -3]])];
    const backend = golden.map((s) => step(s.token, s.logprob! - 0.1, s.top.map((t): [string, number] => [t.token, t.logprob - 0.1])));
    const v = compare(tokenSample(golden), tokenSample(backend));
    expect(v.details?.meanKld as number).toBeLessThan(1e-12);
    expect(v.status).toBe('fail');
    // p(a) = e^-0.1 = 0.905 → e^-0.2 = 0.819: Δp = −0.086 at both positions.
    expect(v.measured as number).toBeCloseTo(Math.exp(-0.1) - Math.exp(-0.2), 9);
    expect(v.threshold).toBe(DEFAULT_MAX_RMS_DELTA_P);
  });

  it('must catch: maxKld, when given, fails one bad position the mean hides', () => {
    const golden = steady(40);
    // At token 17 the backend swaps the two least likely alternatives: KLD 0.03 there, Δp 0, mean 8e-4 over 40.
    const backend = steady(40).map((s, i) => (i === 17 ? step(s.token, -0.2, [[s.token, -0.2], ['x', -2.2], ['y', -4], ['z', -3]]) : s));
    expect(compare(tokenSample(golden), tokenSample(backend)).status).toBe('pass');
    const v = compare(tokenSample(golden), tokenSample(backend), { maxKld: 0.01 });
    expect(v.status).toBe('fail');
    expect(v.threshold).toBe(0.01);
    expect(v.details?.maxKldIndex).toBe(17);
    expect(v.message).toContain('at token 17');
  });

  it('must catch: minSameTopRate, when given, fails a backend whose top token differs too often', () => {
    // Two near-tie positions where the top entries swap, out of 10; the chosen tokens stay the same.
    const golden = Array.from({ length: 10 }, (_, i) => step(`t${i}`, -0.69, [[`t${i}`, -0.69], ['u', -0.70]]));
    const backend = golden.map((s, i) => (i % 5 === 0 ? step(s.token, -0.70, [['u', -0.69], [s.token, -0.70]]) : s));
    const informational = compare(tokenSample(golden), tokenSample(backend));
    expect(informational.status).toBe('pass');
    expect(informational.details?.sameTopRate).toBe(0.8);
    const v = compare(tokenSample(golden), tokenSample(backend), { minSameTopRate: 0.9 });
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(0.8);
    expect(v.message).toContain('same top 80.0% < 90.0%');
  });

  it('compares the shared prefix and the divergence position, nothing after it', () => {
    const golden = [...steady(3), step('g', -0.3, [['g', -0.3], ['h', -1.5]]), step('after', -5)];
    const backend = [...steady(3), step('h', -0.4, [['h', -0.4], ['g', -1.2]]), step('other', -0.1)];
    const stats = distributionStats(golden, backend);
    expect(stats.divergenceIndex).toBe(3);
    expect(stats.shared).toBe(4);
    expect(stats.positions.map((p) => p.index)).toEqual([0, 1, 2, 3]);
    expect(stats.positions[3]!.sameTop).toBe(false);
    expect(stats.sameTopRate).toBe(0.75);
    // Δp at the divergence is golden's token in both: e^-1.2 − e^-0.3.
    expect(stats.positions[3]!.deltaP).toBeCloseTo(Math.exp(-1.2) - Math.exp(-0.3), 12);
  });

  it('when one side stops early, compares the positions both have', () => {
    const stats = distributionStats(steady(5), steady(3));
    expect(stats.divergenceIndex).toBeNull();
    expect(stats.n).toBe(3);
  });

  it('fewer than 2 positions: passes identical text and says the distribution was too short', () => {
    const v = compare(tokenSample([step('Hi', -0.1, [['Hi', -0.1], ['Ho', -3]])]), tokenSample([step('Hi', -0.1, [['Hi', -0.1], ['Ho', -3]])]));
    expect(v.status).toBe('pass');
    expect(v.measured).toBe(1);
    expect(v.message).toContain('text identical');
  });

  it('fewer than 2 positions: fails differing text without logprobs and asks for them', () => {
    const v = compare(sample({ text: 'Hello there.' }), sample({ text: 'Hello, there.' }));
    expect(v.status).toBe('fail');
    expect(v.measured).toBe(0);
    expect(v.message).toContain('logprobs are needed');
    expect(compare(sample({ text: 'same' }), sample({ text: 'same' })).status).toBe('pass');
  });

  it('chosen-token logprobs without alternatives (top_logprobs 0) do not make a distribution', () => {
    const bare = (t: string, lp: number): TokenStep => ({ token: t, logprob: lp, top: [] });
    const v = compare(tokenSample([bare('a', -0.1), bare('b', -0.2)]), tokenSample([bare('a', -0.1), bare('c', -0.2)]));
    expect(v.status).toBe('fail');
    expect(v.message).toContain('top_logprobs');
  });

  it('a healthy near-tie flip at token 1 (0.316 nats in golden, both moved half-way) is left to greedy-divergence', () => {
    const golden = tokenSample([step('a', -0.1, [['a', -0.1], ['z', -3]]), step('x', -0.55, [['x', -0.55], ['y', -0.866], ['w', -2]])]);
    const backend = tokenSample([step('a', -0.1, [['a', -0.1], ['z', -3]]), step('y', -0.706, [['y', -0.706], ['x', -0.71], ['w', -2]])]);
    const loose = { topK: 5, divergenceLogprobGap: 0.5, prefixLogprobDelta: 0.25 };
    const v = distribution.compare(input({ sample: backend, reference: golden, spec: { kind: 'distribution' }, tolerance: loose }));
    expect(v.status).toBe('pass');
    expect(v.message).toMatch(/^distributions close to golden before the near-tie flip at token 1/);
    // The same figures fail when the flip is not a near-tie by the tolerance: then the gates count it.
    expect(distribution.compare(input({ sample: backend, reference: golden, spec: { kind: 'distribution' }, tolerance: { ...loose, divergenceLogprobGap: 0.2 } })).status).toBe('fail');
  });

  it('fewer than 2 positions: a divergence at token 0 fails as too early, not as missing logprobs', () => {
    const v = compare(tokenSample([step('a', -0.1, [['a', -0.1], ['b', -3]]), step('c', -0.1, [['c', -0.1]])]), tokenSample([step('b', -0.1, [['b', -0.1], ['a', -3]])]));
    expect(v.status).toBe('fail');
    expect(v.message).toContain('part at token 0');
  });

  it('keys tokens by id when every entry has one, so two tokens with the same text stay apart', () => {
    const withIds = (pairs: Array<[number, number]>): TopLogprob[] => pairs.map(([id, logprob]) => ({ token: 'r', id, logprob }));
    const same = topKKld(withIds([[1, -0.1], [2, -2.5]]), withIds([[1, -0.1], [2, -2.5]]));
    const swapped = topKKld(withIds([[1, -0.1], [2, -2.5]]), withIds([[2, -0.1], [1, -2.5]]));
    expect(same).toBe(0);
    expect(swapped).toBeGreaterThan(1);
  });

  it("stays finite on OpenAI's −9999 sentinel and on tokens one side does not list", () => {
    const kld = topKKld(top([['a', -0.01], ['b', -5]]), top([['b', -0.01], ['a', -9999], ['c', -9999]]));
    expect(Number.isFinite(kld)).toBe(true);
    expect(kld).toBeLessThanOrEqual(Math.log(1 / PROBABILITY_FLOOR));
  });

  it('gives a missing token its side’s residual, capped at the smallest listed probability', () => {
    // Golden lists a (0.5) and b (0.3), leaving 0.2; the backend's extra token c gets min(0.2, 0.3) = 0.2,
    // so golden over {a, b, c} is (0.5, 0.3, 0.2), which already sums to 1.
    const { keys, p } = unionDistributions(top([['a', Math.log(0.5)], ['b', Math.log(0.3)]]), top([['c', Math.log(0.9)]]));
    expect(keys).toEqual(['sa', 'sb', 'sc']);
    expect(p[0]).toBeCloseTo(0.5, 12);
    expect(p[2]).toBeCloseTo(0.2, 12);
    // Residual 0.4 over two missing tokens, each capped by the smallest listed 0.1: (0.5, 0.1, 0.1, 0.1) renormalized.
    const capped = unionDistributions(top([['a', Math.log(0.5)], ['b', Math.log(0.1)]]), top([['c', -1], ['d', -1]]));
    expect(capped.p[2]! / capped.p[0]!).toBeCloseTo(0.1 / 0.5, 12);
  });

  it('errors on a bad option instead of guessing', () => {
    const a = tokenSample(steady(3));
    for (const bad of [{ maxMeanKld: -1 }, { maxRmsDeltaP: 'x' }, { minSameTopRate: 1.5 }, { maxKld: Number.NaN }]) {
      const v = compare(a, a, bad);
      expect(v.status).toBe('error');
      expect(v.message).toMatch(/option \w+ must be a number/);
    }
  });

  it('throws when called without a reference (evaluateSample guards this)', () => {
    expect(() => distribution.compare(input({ sample: sample(), spec: { kind: 'distribution' } }))).toThrow(/needs a reference/);
  });
});

// --- Properties -------------------------------------------------------------------------------

const VOCAB = ['a', 'b', 'c', 'd', 'e', 'f'];
const logprob = fc.integer({ min: -6000, max: 0 }).map((x) => x / 1000);
const topList = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...VOCAB), logprob), { minLength: 1, maxLength: 5, selector: ([t]) => t })
  .map((pairs) => top(pairs).sort((x, y) => y.logprob - x.logprob));
const tokenStep: fc.Arbitrary<TokenStep> = topList.map((list) => ({ token: list[0]!.token, logprob: list[0]!.logprob, top: list }));
const sequence = fc.array(tokenStep, { minLength: 0, maxLength: 10 });

/** Two sequences sharing a perturbed prefix (same chosen tokens, noisy logprobs), then free tails. */
const pair: fc.Arbitrary<[TokenStep[], TokenStep[]]> = fc
  .tuple(sequence, sequence, fc.nat({ max: 10 }), fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 10, maxLength: 10 }))
  .map(([a, tail, shared, noise]) => {
    const prefix = a.slice(0, shared).map((s, i) => ({
      ...s,
      logprob: s.logprob! + noise[i]! / 1000,
      top: s.top.map((t, j) => ({ ...t, logprob: Math.min(0, t.logprob + (j === 0 ? noise[i]! / 1000 : 0)) })),
    }));
    return [a, [...prefix, ...tail]];
  });

const thresholds = fc.record({
  maxMeanKld: fc.integer({ min: 0, max: 2000 }).map((x) => x / 10000),
  maxRmsDeltaP: fc.integer({ min: 0, max: 500 }).map((x) => x / 1000),
  maxKld: fc.option(fc.integer({ min: 0, max: 2000 }).map((x) => x / 1000), { nil: undefined }),
  minSameTopRate: fc.option(fc.integer({ min: 0, max: 100 }).map((x) => x / 100), { nil: undefined }),
});
const looser = fc.tuple(thresholds, fc.nat({ max: 1000 }), fc.nat({ max: 100 }), fc.nat({ max: 1000 }), fc.nat({ max: 100 }), fc.boolean(), fc.boolean()).map(
  ([t, dm, dr, dk, ds, dropKld, dropSame]): [CheckSpec, CheckSpec] => [
    { kind: 'distribution', ...t },
    {
      kind: 'distribution',
      maxMeanKld: t.maxMeanKld + dm / 10000,
      maxRmsDeltaP: t.maxRmsDeltaP + dr / 1000,
      maxKld: dropKld || t.maxKld === undefined ? undefined : t.maxKld + dk / 1000,
      minSameTopRate: dropSame || t.minSameTopRate === undefined ? undefined : Math.max(0, t.minSameTopRate - ds / 100),
    },
  ],
);

describe('distribution: properties', () => {
  it('KL ≥ 0, and 0 exactly when the two union distributions are identical', () => {
    fc.assert(
      fc.property(topList, topList, (p, q) => {
        const kld = topKKld(p, q);
        const union = unionDistributions(p, q);
        const gap = Math.max(...union.p.map((x, i) => Math.abs(x - union.q[i]!)));
        expect(kld).toBeGreaterThanOrEqual(0);
        if (gap > 1e-4) expect(kld).toBeGreaterThan(0);
        if (kld === 0) expect(gap).toBeLessThan(1e-6);
        expect(topKKld(p, p)).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('identity: a sample always passes against itself, with zero KLD and Δp', () => {
    fc.assert(
      fc.property(sequence, thresholds, (seq, t) => {
        const v = compare(tokenSample(seq), tokenSample(structuredClone(seq)), t);
        expect(v.status).toBe('pass');
        if (seq.length >= 2) expect(v.details).toMatchObject({ meanKld: 0, maxKld: 0, rmsDeltaP: 0, sameTopRate: 1 });
      }),
      { numRuns: 300 },
    );
  });

  it('symmetry: the same-top rate and the positions compared do not depend on which side is golden', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const ab = distributionStats(a, b);
        const ba = distributionStats(b, a);
        expect(ab.n).toBe(ba.n);
        expect(ab.sameTopRate).toBe(ba.sameTopRate);
        expect(ab.sameTopStdErr).toBe(ba.sameTopStdErr);
      }),
      { numRuns: 500 },
    );
  });

  it('monotone in thresholds: what passes passes under any looser thresholds', () => {
    fc.assert(
      fc.property(pair, looser, ([a, b], [tight, loose]) => {
        const ra = tokenSample(a);
        const rb = tokenSample(b);
        const at = (spec: CheckSpec) => distribution.compare(input({ sample: rb, reference: ra, spec })).status;
        if (at(tight) === 'pass') expect(at(loose)).toBe('pass');
      }),
      { numRuns: 500 },
    );
  });
});
