import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import { createJournal } from '../../src/record/journal.ts';
import { readRunSummary } from '../../src/record/run-folder.ts';
import { readJournal } from '../../src/record/run-journal.ts';
import { createJsonReporter } from '../../src/reporters/json-reporter.ts';
import { fixtureSummary } from '../reporters/fixture-summary.ts';

const dirs: string[] = [];
const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'conform-folder-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A run folder as conform run leaves it: every result journaled as it lands, then summary.json. */
function writeRun(dir: string, summary: RunSummary): RunSummary {
  const journal = createJournal(dir);
  journal.append({ type: 'run', schemaVersion: 1, runId: summary.runId, conformVersion: summary.conformVersion, startedAt: summary.startedAt });
  const results = summary.results.map((r) => ({ ...r, sampleLine: journal.append({ type: 'result', ...r }) }));
  journal.close();
  const ran = { ...summary, results };
  createJsonReporter().onRunEnd!(ran, dir);
  return ran;
}

describe('a run folder read back', () => {
  it('has summary.json pointing at journal lines, and readRunSummary puts every sample back', () => {
    const dir = folder();
    const ran = writeRun(dir, fixtureSummary());
    const stored = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expect(stored.results.some((r) => r.sample)).toBe(false);
    const lines = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id?: string });
    for (const r of stored.results) expect(lines[r.sampleLine! - 1]!.id).toBe(r.id);
    expect(readRunSummary(dir, '/').summary.results).toEqual(ran.results);
  });

  it('keeps samples a summary carries itself, and reads one with no journal beside it without samples', () => {
    const dir = folder();
    const summary = fixtureSummary();
    writeFileSync(join(dir, 'inline.json'), JSON.stringify(summary));
    expect(readRunSummary(join(dir, 'inline.json'), '/').summary.results).toEqual(summary.results);
    const bare = folder();
    writeFileSync(join(bare, 'summary.json'), JSON.stringify({ ...summary, results: summary.results.map(({ sample: _s, ...r }, i) => ({ ...r, sampleLine: i + 2 })) }));
    expect(readRunSummary(bare, '/').summary.results.every((r) => r.sample === undefined)).toBe(true);
  });

  it('continues line numbers across a resume', () => {
    const dir = folder();
    const journal = createJournal(dir);
    journal.append({ type: 'run', schemaVersion: 1, runId: 'r', conformVersion: '0', startedAt: '2026-01-01T00:00:00.000Z' });
    journal.append({ type: 'result', id: 'a', backend: 'b', suite: 's', caseId: 'a', status: 'pass', verdicts: [] });
    journal.close();
    const contents = readJournal(dir);
    expect(contents.lines).toBe(2);
    expect(contents.results[0]!.sampleLine).toBe(2);
    const resumed = createJournal(dir, { linesBefore: contents.lines });
    expect(resumed.append({ type: 'resume', at: 'x', recorded: 1 })).toBe(3);
    expect(resumed.append({ type: 'result', id: 'c', backend: 'b', suite: 's', caseId: 'c', status: 'pass', verdicts: [] })).toBe(4);
    resumed.close();
    expect(readJournal(dir).results.map((r) => r.sampleLine)).toEqual([2, 4]);
  });
});
