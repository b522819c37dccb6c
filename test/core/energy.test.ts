// Energy integration and counters on synthetic series, where the exact answer is known.

import { describe, expect, it } from 'vitest';
import { apportionEnergy, counterEnergy, energyAt, energyCostPer1k, integratePower, thinSeries } from '../../src/core/energy.ts';

describe('integratePower', () => {
  it('is exact for a linear ramp (trapezoid rule), and cumulative', () => {
    // 0 W to 100 W over 10 s, sampled every 100 ms: 500 J.
    const points = Array.from({ length: 101 }, (_, i) => ({ t: i * 100, watts: i }));
    const series = integratePower(points);
    expect(series[series.length - 1]![1]).toBeCloseTo(500, 9);
    expect(series[50]![1]).toBeCloseTo(125, 9);
  });

  it('bridges a missing or invalid reading with a straight line, in time order', () => {
    const series = integratePower([
      { t: 2000, watts: 50 },
      { t: 0, watts: 50 },
      { t: 1000, watts: Number.NaN },
    ]);
    expect(series).toEqual([
      [0, 0],
      [2000, 100],
    ]);
  });

  it('one reading is no energy at all, and none is an empty series', () => {
    expect(integratePower([{ t: 5, watts: 300 }])).toEqual([[5, 0]]);
    expect(integratePower([])).toEqual([]);
  });
});

describe('counterEnergy', () => {
  it('adds the increments of every domain', () => {
    const { series, wraps, resets } = counterEnergy(
      [
        { t: 0, counters: [10, 100] },
        { t: 250, counters: [15, 101] },
        { t: 500, counters: [22, 103] },
      ],
      [undefined, undefined],
    );
    expect(series.map(([, j]) => j)).toEqual([0, 6, 15]);
    expect([wraps, resets]).toEqual([0, 0]);
  });

  it('a reading below the last one wraps at max_energy_range: cur + range − prev', () => {
    // RAPL's usual range, 262143.328850 J; the counter passes it between two readings.
    const range = 262143.32885;
    const { series, wraps } = counterEnergy(
      [
        { t: 0, counters: [range - 30] },
        { t: 250, counters: [range - 10] },
        { t: 500, counters: [5] },
        { t: 750, counters: [25] },
      ],
      [range],
    );
    expect(series[series.length - 1]![1]).toBeCloseTo(20 + 15 + 20, 6);
    expect(wraps).toBe(1);
  });

  it('without a known range, a drop is a reset: counted from 0, and said to be a lower bound', () => {
    const { series, resets } = counterEnergy(
      [
        { t: 0, counters: [100] },
        { t: 1, counters: [120] },
        { t: 2, counters: [7] },
      ],
      [undefined],
    );
    expect(series[2]![1]).toBe(27);
    expect(resets).toBe(1);
  });
});

describe('energy per request', () => {
  const series: Array<[number, number]> = [
    [0, 0],
    [1000, 100],
    [2000, 300],
  ];

  it('interpolates the cumulative energy and holds it flat beyond the ends', () => {
    expect(energyAt(series, 500)).toBe(50);
    expect(energyAt(series, 1500)).toBe(200);
    expect(energyAt(series, -5)).toBe(0);
    expect(energyAt(series, 9999)).toBe(300);
  });

  it('shares overlapping time equally among the requests in flight, so the shares add up to the busy energy', () => {
    const shares = apportionEnergy(series, [
      [0, 1000],
      [500, 2000],
    ]);
    // 0–500: 50 J to the first; 500–1000: 50 J shared; 1000–2000: 200 J to the second.
    expect(shares).toEqual([75, 225]);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it('thinning keeps the first and last points, so the total is unchanged', () => {
    const long = Array.from({ length: 5000 }, (_, i): [number, number] => [i, i * 2]);
    const thin = thinSeries(long, 1000);
    expect(thin).toHaveLength(1000);
    expect(thin[0]).toEqual([0, 0]);
    expect(thin[999]).toEqual([4999, 9998]);
  });

  it('energy cost per 1K tokens is 1000 × J/token ÷ 3.6e6 × price × PUE', () => {
    // 0.36 J per token: 360 J per 1K tokens = 1e-4 kWh; at 0.30 per kWh and PUE 1.5: 4.5e-5.
    expect(energyCostPer1k(0.36, 0.3, 1.5)).toBeCloseTo(4.5e-5, 15);
  });
});
