import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { CaseResult, Sample } from '../core/types.ts';

/** Random access to the lines of a journal file. */
export interface JournalLines {
  /** Line `n`, counted from 1, without its newline; undefined past the end. */
  line(n: number): string | undefined;
  close(): void;
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/** Opens a journal for reading single lines: one pass finds where each line starts, then each line is one read. */
export function openJournalLines(file: string): JournalLines {
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const starts = [0];
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (let position = 0; position < size; ) {
    const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
    if (read === 0) break;
    for (let at = buffer.indexOf(NEWLINE, 0); at !== -1 && at < read; at = buffer.indexOf(NEWLINE, at + 1)) starts.push(position + at + 1);
    position += read;
  }
  return {
    line(n) {
      const start = starts[n - 1];
      if (start === undefined || start >= size) return undefined;
      const end = starts[n] !== undefined ? starts[n]! - 1 : size;
      const bytes = Buffer.allocUnsafe(end - start);
      readSync(fd, bytes, 0, bytes.length, start);
      return bytes.toString('utf8');
    },
    close: () => closeSync(fd),
  };
}

/** Reads back the sample journaled with a result, by its sampleLine; undefined when that line is not this result's. */
export function createJournalSampleReader(file: string): { sampleOf(result: CaseResult): Sample | undefined; close(): void } {
  let lines: JournalLines | undefined;
  return {
    sampleOf(result) {
      if (result.sampleLine === undefined) return undefined;
      try {
        lines ??= openJournalLines(file);
        const entry = JSON.parse(lines.line(result.sampleLine) ?? 'null') as { type?: string; id?: string; sample?: Sample } | null;
        return entry?.type === 'result' && entry.id === result.id ? entry.sample : undefined;
      } catch {
        // A journal that cannot be read back leaves the report with the case's figures, never without a report.
        return undefined;
      }
    },
    close: () => lines?.close(),
  };
}
