import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { createJournal } from '../../src/record/journal.ts';
import { createHtmlReporter } from '../../src/reporters/html-reporter.ts';
import { createJsonReporter } from '../../src/reporters/json-reporter.ts';
import { createJunitReporter } from '../../src/reporters/junit-reporter.ts';
import { createMarkdownReporter } from '../../src/reporters/markdown-reporter.ts';
import { HUGE_ANGLES, HUGE_CONTROL, hugeSummary, hugeText } from './huge-summary.ts';
import { parseXml } from './xml.ts';

const dir = mkdtempSync(join(tmpdir(), 'conform-huge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readRange(file: string, start: number, length: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, start);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

describe('a sample far larger than any body cap', () => {
  it('is journaled, and summary.json, junit.xml, summary.md and report.html are all written', () => {
    const text = hugeText();
    const summary = hugeSummary(text);
    const huge = summary.results.at(-1)!;
    const journal = createJournal(dir);
    huge.sampleLine = journal.append({ type: 'result', ...huge });
    journal.close();
    for (const reporter of [createJsonReporter(), createJunitReporter(), createMarkdownReporter(), createHtmlReporter()]) reporter.onRunEnd!(summary, dir);

    // The journal line is exactly JSON.stringify's text: the same record with a marker for the text, the text escaped in its place.
    const escaped = HUGE_CONTROL * '\\u0001'.length + HUGE_ANGLES;
    const marked = hugeSummary('MARKER', text).results.at(-1)!;
    const [before, after] = `${JSON.stringify({ type: 'result', ...marked })}\n`.split('"MARKER"') as [string, string];
    const file = join(dir, 'samples.jsonl');
    expect(statSync(file).size).toBe(Buffer.byteLength(before) + escaped + 2 + Buffer.byteLength(after));
    expect(readRange(file, 0, Buffer.byteLength(before))).toBe(before);
    expect(readRange(file, statSync(file).size - Buffer.byteLength(after), Buffer.byteLength(after))).toBe(after);
    expect(readRange(file, Buffer.byteLength(before), 13)).toBe('"\\u0001\\u0001');

    // summary.json points at that line instead of holding a second copy of the sample.
    const stored = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    // What is left is the verdict's 5 MB message (30 MB escaped), not the 675 MB of escaped text.
    expect(statSync(join(dir, 'summary.json')).size).toBeLessThan(escaped / 10);
    expect(stored.results.at(-1)).toMatchObject({ caseId: 'huge-body', sampleLine: 1 });
    expect(stored.results.every((r) => r.sample === undefined)).toBe(true);

    // The human reports show an excerpt and say where the rest is.
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit.length).toBeLessThan(2_000_000);
    const root = parseXml(junit);
    expect(root.name).toBe('testsuites');
    expect(junit).toContain('name="huge-body"');
    expect(junit).toMatch(/<system-out>… \([\d,]+ more characters; all of them are in samples\.jsonl\)<\/system-out>/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.length).toBeLessThan(5_000_000);
    expect(html).toContain('huge-body');
    expect(html).toContain('more characters; all of them are in samples.jsonl');
    const markdown = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(markdown.length).toBeLessThan(200_000);
    expect(markdown).toContain('huge-body');
  }, 300_000);
});
