import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isForced, MASKED_LOGPROB, prefixDrift } from '../../src/assertions/prefix-drift.ts';
import type { TokenStep } from '../../src/core/types.ts';
import { step } from './samples.ts';

const top5 = (token: string, lp: number): TokenStep => step(token, lp, [[token, lp], ['b', lp - 0.5], ['c', lp - 0.7], ['d', lp - 0.9], ['e', lp - 1.1]]);

describe('isForced', () => {
  it.each<[string, TokenStep, boolean]>([
    ['the masked sentinel', step('x', MASKED_LOGPROB, [['a', -0.1]]), true],
    ['a grammar token below its own list (llama-server: -15 nats, list down to -3)', step('{', -15, [['a', -1], ['b', -2], ['c', -3]]), true],
    ['listed, even low', step('c', -3, [['a', -1], ['b', -2], ['c', -3]]), false],
    ['rank 0', top5('a', -0.2), false],
    ['no list to tell', step('x', -15, []), false],
    ['a list of masked entries only (conform serve under a grammar)', { token: 'x', logprob: -0.3, top: [{ token: 'x', logprob: -0.3 }, { token: 'y', logprob: -9999 }] }, false],
  ])('%s → %s', (_, s, expected) => expect(isForced(s)).toBe(expected));
});

describe('prefixDrift', () => {
  it('compares positions inside both top-k lists and counts what it leaves out, by why', () => {
    const a = [top5('a', -0.2), step('{', -15, [['a', -1], ['b', -2]]), step('q', -3, [['z', -1], ['y', -2], ['q', -3]]), { token: 'n', top: [] }, top5('a', -0.4)];
    const b = [top5('a', -0.25), step('{', -8, [['a', -1], ['b', -2]]), step('q', -3.8, [['z', -1], ['y', -2], ['q', -3.8]]), top5('n', -1), top5('a', -0.1)];
    const d = prefixDrift(a, b, 5, 2);
    expect(d).toMatchObject({ shared: 5, compared: 2, excluded: { forced: 1, outsideTopK: 1, noLogprob: 1 }, maxIndex: 4 });
    expect(d.max).toBeCloseTo(0.3, 9);
    // With k = 3 the rank-3 token counts: 0.8 nats there.
    expect(prefixDrift(a, b, 5, 3).max).toBeCloseTo(0.8, 9);
  });

  it('gives p50 and p99 over the compared positions', () => {
    const a = Array.from({ length: 101 }, (_, i) => top5('a', -1));
    const b = Array.from({ length: 101 }, (_, i) => top5('a', -1 - i / 1000));
    const d = prefixDrift(a, b, 101, 5);
    expect(d.p50).toBeCloseTo(0.05, 9);
    expect(d.p99).toBeCloseTo(0.099, 9);
    expect(d.max).toBeCloseTo(0.1, 9);
  });

  it('is symmetric and zero against itself', () => {
    const steps = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: -5000, max: 0 })).map(([t, l]) => top5(t, l / 1000)), { maxLength: 10 });
    fc.assert(
      fc.property(steps, steps, (a, b) => {
        const n = Math.min(a.length, b.length);
        const x = prefixDrift(a, b, n, 5);
        const y = prefixDrift(b, a, n, 5);
        expect(x.max).toBe(y.max);
        expect(x.excluded).toEqual(y.excluded);
        expect(prefixDrift(a, a, a.length, 5).max).toBe(0);
      }),
    );
  });
});
