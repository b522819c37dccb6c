import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateRunSummary } from '../core/merge.ts';
import type { RunSummary } from '../core/types.ts';

/**
 * Turns a run record into a vitest test tree (backend › suite › case), so `npx vitest --ui` browses
 * verdicts like tests: a failing case shows every verdict's measured value, threshold and message.
 */
export function describeRunRecord(summaryFile: string): void {
  const summary: RunSummary = validateRunSummary(JSON.parse(readFileSync(summaryFile, 'utf8')), summaryFile);
  for (const backend of [...new Set(summary.results.map((r) => r.backend))].sort())
    describe(backend, () => {
      for (const suite of summary.suites)
        describe(suite, () => {
          for (const result of summary.results.filter((r) => r.backend === backend && r.suite === suite)) {
            const explain = result.verdicts.map((v) => `${v.check} ${v.status}: ${v.message} (measured ${v.measured ?? '—'}, threshold ${v.threshold ?? '—'})`).join('\n');
            if (result.status === 'skip') it(`${result.caseId} (${result.verdicts[0]?.message ?? 'skipped'})`, { skip: true }, () => {});
            else it(result.caseId, () => expect(result.status, explain).toBe('pass'));
          }
        });
    });
}
