import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonLine } from './json-writer.ts';

/** One JSON object per line, appended and flushed as each result completes, so a crash loses nothing already run. */
export interface Journal {
  readonly file: string;
  /** Writes one entry as one line; returns its line number in the file, counted from 1 (header included). */
  append(entry: Record<string, unknown>): number;
  /** Lets go of the file; appending again opens it anew. */
  close(): void;
}

/** Lines already in `file` before this session appends, for a resumed run; 0 for a new file. */
export interface JournalOptions {
  /** @default 0 */
  linesBefore?: number;
}

/**
 * The journal of a run folder: `samples.jsonl`, created if need be and only ever appended to. The file stays
 * open between entries (opening it for each one cost a fifth of a 10,000-case run's CPU); each entry is
 * written through to the kernel before append returns, so a kill of conform loses no finished line.
 */
export function createJournal(runDir: string, options: JournalOptions = {}): Journal {
  mkdirSync(runDir, { recursive: true });
  const file = join(runDir, 'samples.jsonl');
  let fd: number | undefined;
  let lines = options.linesBefore ?? 0;
  return {
    file,
    append(entry) {
      fd ??= openSync(file, 'a');
      // Written in pieces: a sample of any size becomes one line, never an "Invalid string length".
      writeJsonLine(fd, entry);
      return ++lines;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
