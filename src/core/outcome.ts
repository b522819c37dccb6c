import type { CaseResult, Counts, Status, Verdict } from './types.ts';

/** A case errors when no sample could be had, fails when any check fails, and passes only with at least one pass. */
export function caseStatus(verdicts: Verdict[]): Status {
  if (verdicts.some((v) => v.status === 'error')) return 'error';
  if (verdicts.some((v) => v.status === 'fail')) return 'fail';
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
