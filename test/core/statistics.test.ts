import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from '../../src/core/statistics.ts';
import { spreadOf } from '../../src/manifest/drift.ts';

describe('maxOf and minOf', () => {
  it('agree with Math.max and Math.min wherever those can take the values', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { maxLength: 200 }), (values) => {
        expect(maxOf(values)).toBe(Math.max(...values));
        expect(minOf(values)).toBe(Math.min(...values));
      }),
      { numRuns: 500 },
    );
    for (const values of [[-0, 0], [0, -0], [], [1, NaN, 2], [-Infinity], [3, 3]]) {
      expect(maxOf(values)).toBe(Math.max(...values));
      expect(minOf(values)).toBe(Math.min(...values));
    }
  });

  it('take more values than a call may take arguments', () => {
    const values = Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 300_000);
    expect(() => Math.max(...values)).toThrow(RangeError); // why they exist
    expect(maxOf(values)).toBe(299_999);
    expect(minOf(values)).toBe(0);
  });
});

describe('spreadOf (the manifest drift figures)', () => {
  it('summarises per-token figures of a big run: 10,000 cases of 16 tokens is 160,000 values', () => {
    const values = Array.from({ length: 160_000 }, (_, i) => (i % 1000) / 1000);
    expect(spreadOf(values)).toEqual({ count: 160_000, p50: expect.closeTo(0.4995, 9), p99: expect.closeTo(0.989, 3), max: 0.999 });
  });
});
