import { backendLatency } from './latency.ts';
import { countMatrix, totalCounts } from './outcome.ts';
import { SUMMARY_SCHEMA_VERSION, type RunSummary } from './types.ts';

/** What a run knows when it ends; the summary derives the rest. */
export type SummaryInput = Omit<RunSummary, 'schemaVersion' | 'matrix' | 'totals'>;

/** The versioned run summary: everything a reporter, the gate or a merge needs, and nothing they must recompute. */
export function buildSummary(input: SummaryInput): RunSummary {
  const backends = input.backends.map((run) => {
    const samples = input.results.filter((r) => r.backend === run.name && r.sample).map((r) => r.sample!);
    return samples.length ? { ...run, latency: backendLatency(samples) } : run;
  });
  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    ...input,
    backends,
    matrix: countMatrix(input.results),
    totals: totalCounts(input.results),
  };
}
