// Energy from what power tools report: counters that wrap, or power samples to integrate. Pure: readings
// in, joules out. Times are milliseconds on one clock; energies are joules.

/** Cumulative energy at points in time: [ms, joules since the first point]. */
export type EnergySeries = Array<[number, number]>;

export interface PowerPoint {
  t: number;
  watts: number;
}

export interface CounterReading {
  t: number;
  /** One cumulative reading per domain (RAPL package, GPU), in joules. */
  counters: number[];
}

/**
 * Energy from power samples by the trapezoid rule, as a cumulative series. A sample that is not a finite,
 * non-negative number is dropped, so a gap is bridged by a straight line between its neighbours.
 */
export function integratePower(points: readonly PowerPoint[]): EnergySeries {
  const valid = points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.watts) && p.watts >= 0).sort((a, b) => a.t - b.t);
  const series: EnergySeries = [];
  let joules = 0;
  for (let i = 0; i < valid.length; i++) {
    if (i > 0) joules += ((valid[i]!.watts + valid[i - 1]!.watts) / 2) * ((valid[i]!.t - valid[i - 1]!.t) / 1000);
    series.push([valid[i]!.t, joules]);
  }
  return series;
}

export interface CounterEnergy {
  series: EnergySeries;
  /** Steps where a counter went down and its range was known: it wrapped once. */
  wraps: number;
  /** Steps where a counter went down with no known range: counted from zero, a lower bound. */
  resets: number;
}

/**
 * Energy from cumulative counters that wrap: RAPL's `energy_uj` restarts from 0 after `max_energy_range_uj`.
 * A reading below the previous one is a wrap when the range is known (cur + range − prev), else a reset
 * (cur, since the counter restarted from 0). Reading at least once per wrap period is the caller's job: a
 * counter that wrapped twice between two readings looks like one wrap.
 */
export function counterEnergy(readings: readonly CounterReading[], wrapJoules: ReadonlyArray<number | undefined>): CounterEnergy {
  const series: EnergySeries = [];
  let joules = 0;
  let wraps = 0;
  let resets = 0;
  const sorted = readings.filter((r) => Number.isFinite(r.t)).sort((a, b) => a.t - b.t);
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0) {
      const prev = sorted[i - 1]!.counters;
      sorted[i]!.counters.forEach((cur, d) => {
        const before = prev[d];
        if (before === undefined || !Number.isFinite(cur) || !Number.isFinite(before)) return;
        if (cur >= before) joules += cur - before;
        else if (wrapJoules[d] !== undefined && wrapJoules[d]! > before) {
          joules += cur + wrapJoules[d]! - before;
          wraps++;
        } else {
          joules += cur;
          resets++;
        }
      });
    }
    series.push([sorted[i]!.t, joules]);
  }
  return { series, wraps, resets };
}

/** The cumulative energy at time t, linear between points and flat beyond the ends. */
export function energyAt(series: EnergySeries, t: number): number {
  if (series.length === 0) return 0;
  if (t <= series[0]![0]) return series[0]![1];
  const last = series[series.length - 1]!;
  if (t >= last[0]) return last[1];
  let lo = 0;
  let hi = series.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (series[mid]![0] <= t) lo = mid;
    else hi = mid;
  }
  const [t0, e0] = series[lo]!;
  const [t1, e1] = series[hi]!;
  return t1 === t0 ? e1 : e0 + ((e1 - e0) * (t - t0)) / (t1 - t0);
}

/**
 * The energy of each request, [start, end] in the series' clock: every stretch of time is shared equally
 * among the requests in flight during it, so overlapping requests are not counted twice. Time with no
 * request in flight belongs to none.
 */
export function apportionEnergy(series: EnergySeries, intervals: ReadonlyArray<readonly [number, number]>): number[] {
  const shares = intervals.map(() => 0);
  const edges = [...new Set(intervals.flatMap(([a, b]) => [a, b]))].sort((x, y) => x - y);
  for (let i = 1; i < edges.length; i++) {
    const from = edges[i - 1]!;
    const to = edges[i]!;
    const active = intervals.flatMap(([a, b], k) => (a <= from && b >= to && b > a ? [k] : []));
    if (active.length === 0) continue;
    const energy = energyAt(series, to) - energyAt(series, from);
    for (const k of active) shares[k]! += energy / active.length;
  }
  return shares;
}

/** Keeps at most `max` points of a cumulative series, first and last included; cumulative values make every kept point exact. */
export function thinSeries(series: EnergySeries, max: number): EnergySeries {
  if (series.length <= max || max < 2) return series;
  const step = (series.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => series[Math.round(i * step)]!);
}

/** 1000 × J/token ÷ 3.6e6 × price per kWh × PUE: the energy cost of 1,000 tokens. */
export function energyCostPer1k(joulesPerToken: number, pricePerKWh: number, pue: number): number {
  return ((1000 * joulesPerToken) / 3.6e6) * pricePerKWh * pue;
}
