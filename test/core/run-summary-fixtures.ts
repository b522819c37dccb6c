// Builders for run summaries as `conform run` writes them, for the merge, gate and badge tests.
import { caseResultId } from '../../src/core/ids.ts';
import { buildSummary } from '../../src/core/summary.ts';
import type { BackendRun, CaseResult, RunSummary, Sample, Status } from '../../src/core/types.ts';

export interface ResultSpec {
  backend?: string;
  suite?: string;
  caseId: string;
  status: Status;
  /** End-to-end latency; default 100 ms. */
  endMs?: number;
  /** Time to first token; omitted: a non-streamed sample without one. */
  ttftMs?: number;
  message?: string;
}

export function sample(status: Status, endMs = 100, ttftMs?: number): Sample {
  return {
    kind: status === 'error' ? 'http-error' : 'ok',
    text: 'hello',
    tokens: [],
    toolCalls: [],
    finishReason: status === 'error' ? null : 'stop',
    timings: { chunkMs: [], endMs, ...(ttftMs !== undefined && { firstTokenMs: ttftMs }) },
    startedAt: '2026-01-01T00:00:00.000Z',
    streamed: ttftMs !== undefined,
    deviations: [],
    retries: 0,
    ...(status === 'error' && { error: { message: 'HTTP 500', status: 500 } }),
  };
}

export function result(spec: ResultSpec): CaseResult {
  const backend = spec.backend ?? 'cpu';
  const suite = spec.suite ?? 'smoke';
  const check = spec.status === 'error' ? 'request' : 'exact';
  return {
    id: caseResultId(backend, suite, spec.caseId),
    backend,
    suite,
    caseId: spec.caseId,
    status: spec.status,
    sample: sample(spec.status, spec.endMs, spec.ttftMs),
    verdicts: [{ check, status: spec.status, message: spec.message ?? (spec.status === 'pass' ? 'identical to golden' : `${spec.status} on purpose`) }],
  };
}

export function backendRun(name: string, overrides: Partial<BackendRun> = {}): BackendRun {
  return { name, class: name === 'cpu' ? 'cpu' : 'gpu', state: 'ran', identity: { engine: 'llama.cpp', engineVersion: 'b1' }, ...overrides };
}

export interface SummaryOptions {
  runId?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Default: one `ran` backend per backend name in the results. */
  backends?: BackendRun[];
}

export function summary(results: CaseResult[], options: SummaryOptions = {}): RunSummary {
  const names = [...new Set(results.map((r) => r.backend))];
  return buildSummary({
    runId: options.runId ?? '20260101T000000Z-aaaaaa',
    conformVersion: '0.1.0',
    startedAt: options.startedAt ?? '2026-01-01T00:00:00.000Z',
    finishedAt: options.finishedAt ?? '2026-01-01T00:01:00.000Z',
    backends: options.backends ?? names.map((n) => backendRun(n)),
    suites: [...new Set(results.map((r) => r.suite))],
    results,
  });
}

/** `n` passing cases `case-0`…, with the given end-to-end latencies (cycled). */
export function passingCases(n: number, latencies: number[], backend = 'cpu', ttft?: number[]): CaseResult[] {
  return Array.from({ length: n }, (_, i) =>
    result({ backend, caseId: `case-${i}`, status: 'pass', endMs: latencies[i % latencies.length]!, ...(ttft && { ttftMs: ttft[i % ttft.length]! }) }),
  );
}
