import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter } from './reporter.ts';

/** Writes summary.json (schema: docs/run-record.md) beside the journal. */
export function createJsonReporter(): Reporter {
  return {
    onRunEnd(summary, runDir) {
      writeFileSync(join(runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    },
  };
}
