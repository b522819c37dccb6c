import { join } from 'node:path';
import type { CaseResult, RunSummary } from '../core/types.ts';
import { writeJsonFile } from '../record/json-writer.ts';
import type { Reporter } from './reporter.ts';

/**
 * The summary as summary.json stores it: counts, verdicts and figures, each result pointing at its line of
 * samples.jsonl (`sampleLine`) instead of carrying its sample. The journal already holds every sample once; a
 * second copy made a 10,000-case summary 66 MB. readRunSummary puts the samples back when it reads a folder.
 */
export function storedSummary(summary: RunSummary): RunSummary {
  return { ...summary, results: summary.results.map(withoutSample) };
}

function withoutSample({ sample: _sample, ...rest }: CaseResult): CaseResult {
  return rest;
}

/** Writes summary.json (schema: docs/run-record.md) beside the journal, in pieces. */
export function createJsonReporter(): Reporter {
  return {
    onRunEnd(summary, runDir) {
      writeJsonFile(join(runDir, 'summary.json'), storedSummary(summary), 2);
    },
  };
}
