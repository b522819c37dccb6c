import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** One JSON object per line, appended and flushed as each result completes, so a crash loses nothing already run. */
export interface Journal {
  readonly file: string;
  append(entry: Record<string, unknown>): void;
}

export function createJournal(runDir: string): Journal {
  mkdirSync(runDir, { recursive: true });
  const file = join(runDir, 'samples.jsonl');
  return {
    file,
    append(entry) {
      appendFileSync(file, `${JSON.stringify(entry)}\n`);
    },
  };
}
