// Everything a backend's telemetry window measured, turned into the run record's BackendTelemetry. Pure:
// the session at the edge (backend-telemetry.ts) collects, this file computes.

import { energyCostPer1k, thinSeries } from '../core/energy.ts';
import type { BackendTelemetry, CostConfig, EnergyFigures, PowerConfig, RequestRecord } from '../core/telemetry-types.ts';
import { costFigures, throughputOf } from '../core/throughput.ts';
import { engineTtftCheck, prefixCacheChecks } from './cross-checks.ts';
import type { EnergyMeasurement } from './energy/power-sources.ts';
import { summarizeMetrics, vocabularyPoints, type Scrape } from './metrics/metrics-summary.ts';

export interface TelemetryInput {
  concurrency: number;
  /** Epoch ms: when the window opened (before the first request) and closed (after the last). */
  start: number;
  end: number;
  records: readonly RequestRecord[];
  cost?: CostConfig;
  power?: PowerConfig;
  energy: EnergyMeasurement;
  metrics?: { url: string; intervalMs: number; scrapes: readonly Scrape[] };
}

/** Points of the energy series kept in the record: per-request figures interpolate between them. */
const MAX_ENERGY_POINTS = 1000;

function energyFigures(input: TelemetryInput): EnergyFigures {
  const { energy, power } = input;
  const outputTokens = input.records.reduce((n, r) => n + (r.ok ? (r.completionTokens ?? 0) : 0), 0);
  const pue = power?.pue ?? 1;
  const figures: EnergyFigures = {
    requested: energy.requested,
    source: energy.source,
    ...(energy.method && { method: energy.method }),
    ...(energy.device && { device: energy.device }),
    joules: null,
    outputTokens,
    joulesPerOutputToken: null,
    pue,
    ...(power?.pricePerKWh !== undefined && { pricePerKWh: power.pricePerKWh, currency: input.cost?.currency ?? 'USD' }),
    samples: energy.samples,
    durationMs: Math.round(input.end - input.start),
  };
  const series = energy.series;
  if (energy.source === 'none' || series.length < 2) {
    figures.reason = energy.reason ?? (energy.source === 'none' ? 'no power source' : `${energy.source} gave ${series.length} reading${series.length === 1 ? '' : 's'}; at least two are needed`);
    if (power?.pricePerKWh !== undefined) figures.energyCostPer1kTokens = null;
    return figures;
  }
  const first = series[0]!;
  figures.joules = series[series.length - 1]![1] - first[1];
  figures.series = thinSeries(series.map(([t, j]): [number, number] => [Math.round(t - input.start), Number((j - first[1]).toPrecision(9))]), MAX_ENERGY_POINTS);
  if (energy.reason) figures.reason = energy.reason;
  if (outputTokens > 0) figures.joulesPerOutputToken = figures.joules / outputTokens;
  else figures.reason = [figures.reason, 'no output token was generated, so there is no energy per token'].filter(Boolean).join('; ');
  if (power?.pricePerKWh !== undefined)
    figures.energyCostPer1kTokens = figures.joulesPerOutputToken === null ? null : energyCostPer1k(figures.joulesPerOutputToken, power.pricePerKWh, pue);
  return figures;
}

/** The run record's telemetry for one backend: throughput, cost, energy, engine metrics and cross-checks. */
export function deriveTelemetry(input: TelemetryInput): BackendTelemetry {
  const throughput = throughputOf(input.records);
  const read = input.metrics ? vocabularyPoints(input.metrics.scrapes) : undefined;
  const metrics = input.metrics && read ? summarizeMetrics(input.metrics.scrapes, read, { url: input.metrics.url, intervalMs: input.metrics.intervalMs, windowStart: input.start }) : undefined;
  const points = read?.points ?? [];
  const telemetry: BackendTelemetry = {
    concurrency: input.concurrency,
    window: { startedAt: new Date(input.start).toISOString(), durationMs: Math.round(input.end - input.start) },
    throughput,
    ...(input.cost && { cost: costFigures(input.cost, throughput) }),
    energy: energyFigures(input),
    ...(metrics && { metrics }),
    crossChecks: input.metrics ? [engineTtftCheck(input.records, metrics), ...prefixCacheChecks(input.records, points, metrics)] : [],
  };
  return telemetry;
}
