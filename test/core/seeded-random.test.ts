import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../src/core/seeded-random.ts';

const draws = (seed: number, ...labels: Array<number | string>) => {
  const r = createSeededRandom(seed, ...labels);
  return Array.from({ length: 8 }, () => r.next());
};

describe('seeded random', () => {
  it('repeats its stream for a seed and differs for neighbouring seeds and labels', () => {
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(draws(7, 'a')).not.toEqual(draws(7, 'b'));
    expect(draws(2 ** 40)).not.toEqual(draws(0));
  });

  it('forks independently of how far the parent has drawn', () => {
    const a = createSeededRandom(3);
    const b = createSeededRandom(3);
    b.next();
    b.next();
    expect(a.fork('request', 1).next()).toBe(b.fork('request', 1).next());
    expect(a.fork('request', 1).next()).toBe(createSeededRandom(3, 'request', 1).next());
  });

  it('stays within its ranges', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 50 }), (seed, min, span) => {
        const r = createSeededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const x = r.next();
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(1);
          const n = r.int(min, min + span);
          expect(Number.isInteger(n) && n >= min && n <= min + span).toBe(true);
        }
        expect(r.chance(0)).toBe(false);
        expect(r.chance(1)).toBe(true);
      }),
    );
  });

  it('decides with roughly the asked probability', () => {
    const r = createSeededRandom(11);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (r.chance(0.3)) hits++;
    expect(hits / 10_000).toBeGreaterThan(0.27);
    expect(hits / 10_000).toBeLessThan(0.33);
  });
});
