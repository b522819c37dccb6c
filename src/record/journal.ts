import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendJsonLine } from './json-writer.ts';

/** One JSON object per line, appended and flushed as each result completes, so a crash loses nothing already run. */
export interface Journal {
  readonly file: string;
  append(entry: Record<string, unknown>): void;
}

/** The journal of a run folder: `samples.jsonl`, created if need be and only ever appended to. */
export function createJournal(runDir: string): Journal {
  mkdirSync(runDir, { recursive: true });
  const file = join(runDir, 'samples.jsonl');
  return {
    file,
    append(entry) {
      // Written in pieces: a sample of any size becomes one line, never an "Invalid string length".
      appendJsonLine(file, entry);
    },
  };
}
