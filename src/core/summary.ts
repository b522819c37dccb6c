import { backendLatency } from './latency.ts';
import { countMatrix, totalCounts } from './outcome.ts';
import { SUMMARY_SCHEMA_VERSION, type BackendRun, type CaseResult, type RunSummary } from './types.ts';

export interface SummaryInput {
  runId: string;
  conformVersion: string;
  startedAt: string;
  finishedAt: string;
  backends: BackendRun[];
  suites: string[];
  results: CaseResult[];
}

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
