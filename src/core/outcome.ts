import type { CaseResult, Counts, Sample, Status, Verdict } from './types.ts';

/**
 * HTTP statuses that say the backend could not be reached, would not let conform in, or was busy: the
 * infrastructure's trouble, not the backend's answer (SHARED-TYPES.md rule 5). Any other refusal of a valid
 * request of the suite (400, 422, 500, …) is the backend failing the suite.
 */
export const UNREACHABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 408, 429, 502, 503, 504]);

/**
 * The verdict status of a sample that is not `ok`, with why. Only a server that cannot be reached, refuses
 * conform entry, is busy or times out is infrastructure (error). A response that breaks the protocol (a
 * stream without [DONE], an error object inside a 200 stream) is the backend's fault (fail), except a body
 * cut at conform's size cap, of which nothing can be judged.
 */
export function notOkStatus(sample: Pick<Sample, 'kind' | 'error'>): { status: 'fail' | 'error'; why: string } {
  switch (sample.kind) {
    case 'timeout':
      return { status: 'error', why: 'the backend did not answer in time (infrastructure)' };
    case 'crash':
      return { status: 'error', why: 'the backend could not be reached or the connection was lost (infrastructure)' };
    case 'http-error': {
      const code = sample.error?.status;
      if (code === undefined || UNREACHABLE_HTTP_STATUSES.has(code)) return { status: 'error', why: `HTTP ${code ?? '?'}: unreachable, not authorised, wrong URL or busy (infrastructure)` };
      return { status: 'fail', why: `HTTP ${code}: the backend refused a valid request of the suite` };
    }
    case 'protocol-error':
      if (sample.error?.code === 'body-too-large') return { status: 'error', why: 'the body was cut at the size cap, so nothing can be judged' };
      return { status: 'fail', why: 'the response broke the OpenAI protocol: the backend is at fault, not the infrastructure' };
    default:
      return { status: 'error', why: `unexpected sample kind ${JSON.stringify(sample.kind)}` };
  }
}

/**
 * A case fails when any check fails, even beside an error: a real disagreement must never hide behind a
 * missing golden or a flaky backend. It errors when something could not be judged, and passes only with
 * at least one pass.
 */
export function caseStatus(verdicts: Verdict[]): Status {
  if (verdicts.some((v) => v.status === 'fail')) return 'fail';
  if (verdicts.some((v) => v.status === 'error')) return 'error';
  if (verdicts.some((v) => v.status === 'pass')) return 'pass';
  return 'skip';
}

export function emptyCounts(): Counts {
  return { pass: 0, fail: 0, error: 0, skip: 0 };
}

/** backend → suite → counts, for the console matrix and the summary. */
export function countMatrix(results: CaseResult[]): Record<string, Record<string, Counts>> {
  const matrix: Record<string, Record<string, Counts>> = {};
  for (const r of results) {
    const row = (matrix[r.backend] ??= {});
    (row[r.suite] ??= emptyCounts())[r.status] += 1;
  }
  return matrix;
}

export function totalCounts(results: CaseResult[]): Counts {
  const totals = emptyCounts();
  for (const r of results) totals[r.status] += 1;
  return totals;
}

/** Failures outrank infrastructure errors: a real disagreement must never hide behind a flaky backend. */
export function exitCodeForCounts(totals: Counts): 0 | 1 | 3 {
  if (totals.fail > 0) return 1;
  if (totals.error > 0) return 3;
  return 0;
}
