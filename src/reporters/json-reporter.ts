import { join } from 'node:path';
import { writeJsonFile } from '../record/json-writer.ts';
import type { Reporter } from './reporter.ts';

/** Writes summary.json (schema: docs/run-record.md) beside the journal, in pieces: no sample is too big for it. */
export function createJsonReporter(): Reporter {
  return {
    onRunEnd(summary, runDir) {
      writeJsonFile(join(runDir, 'summary.json'), summary, 2);
    },
  };
}
