import { backendLatency } from './latency.ts';
import { countMatrix, totalCounts } from './outcome.ts';
import { SUMMARY_SCHEMA_VERSION, type RunSummary } from './types.ts';

/** What a run knows when it ends; the summary derives the rest. */
export type SummaryInput = Omit<RunSummary, 'schemaVersion' | 'matrix' | 'totals'>;

/** The versioned run summary: everything a reporter, the gate or a merge needs, and nothing they must recompute. */
export function buildSummary(input: SummaryInput): RunSummary {
  const backends = input.backends.map((run) => {
    const mine = input.results.filter((r) => r.backend === run.name);
    const samples = mine.filter((r) => r.sample).map((r) => r.sample!);
    const slo = mine.flatMap((r) => r.verdicts.filter((v) => v.check === 'latency-slo' && (v.status === 'pass' || v.status === 'fail')));
    return {
      ...run,
      ...(samples.length ? { latency: backendLatency(samples) } : {}),
      ...(slo.length ? { goodput: { judged: slo.length, met: slo.filter((v) => v.status === 'pass').length } } : {}),
    };
  });
  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    ...input,
    backends,
    matrix: countMatrix(input.results),
    totals: totalCounts(input.results),
  };
}
