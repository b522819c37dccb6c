import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../../src/core/types.ts';
import { createJournalSampleReader, openJournalLines } from '../../src/record/journal-lines.ts';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'journal-lines-')), 'samples.jsonl');
  writeFileSync(path, text);
  return path;
};

describe('openJournalLines', () => {
  it('reads any line by number, multi-byte text and a last line without its newline included', () => {
    const lines = openJournalLines(file('{"a":1}\n{"b":"é€😀"}\n\n{"c":3}'));
    expect([1, 2, 3, 4, 5].map((n) => lines.line(n))).toEqual(['{"a":1}', '{"b":"é€😀"}', '', '{"c":3}', undefined]);
    lines.close();
  });

  it('finds lines across its read chunks', () => {
    const long = 'x'.repeat(1_500_000);
    const lines = openJournalLines(file(`"${long}"\n"short"\n`));
    expect(lines.line(2)).toBe('"short"');
    expect(lines.line(1)!.length).toBe(long.length + 2);
    lines.close();
  });
});

describe('createJournalSampleReader', () => {
  const result = (id: string, sampleLine: number) => ({ id, sampleLine }) as CaseResult;
  const journal = file(['{"type":"run"}', '{"type":"result","id":"r1","sample":{"text":"one"}}', '{"type":"result","id":"r2","sample":{"text":"two"}}', '{"type":"result","id":"r3","sam'].join('\n'));

  it('gives the sample of the result on that line, and nothing for a line that is another result or unreadable', () => {
    const reader = createJournalSampleReader(journal);
    expect(reader.sampleOf(result('r2', 3))?.text).toBe('two');
    expect(reader.sampleOf(result('r1', 3))).toBeUndefined();
    expect(reader.sampleOf(result('r3', 4))).toBeUndefined();
    expect(reader.sampleOf(result('r1', 99))).toBeUndefined();
    reader.close();
  });

  it('gives nothing, without throwing, when the journal is gone', () => {
    const reader = createJournalSampleReader(join(tmpdir(), 'no-such-dir', 'samples.jsonl'));
    expect(reader.sampleOf(result('r1', 2))).toBeUndefined();
    reader.close();
  });
});
