import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConformError } from '../../src/core/errors.ts';
import type { BackendRun } from '../../src/core/types.ts';
import { fingerprintDifferences, type FingerprintInput, runFingerprint } from '../../src/record/run-fingerprint.ts';
import { continuedBackend, readJournal, repairJournal } from '../../src/record/run-journal.ts';

const header = { type: 'run', schemaVersion: 1, runId: 'r1', conformVersion: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z', suites: ['s'] };
const result = (id: string) => ({ type: 'result', id, backend: 'cpu', suite: 's', caseId: id, status: 'pass', verdicts: [] });
const backend = (state: BackendRun['state'], extra: Partial<BackendRun> = {}) => ({ type: 'backend', name: 'cpu', class: 'cpu', state, identity: { engine: 'e' }, ...extra });

function journal(lines: unknown[], tail = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'conform-journal-'));
  writeFileSync(join(dir, 'samples.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join('') + tail);
  return dir;
}

describe('readJournal', () => {
  it('reads the header, results and backends of a journal that ended cleanly', () => {
    const contents = readJournal(journal([header, backend('ran'), result('a'), result('b')]));
    expect(contents.header?.runId).toBe('r1');
    expect(contents.results.map((r) => r.id)).toEqual(['a', 'b']);
    expect(contents.backends).toEqual([{ name: 'cpu', class: 'cpu', state: 'ran', identity: { engine: 'e' } }]);
    expect(contents.droppedBytes).toBe(0);
  });

  it('leaves out a last line cut short by a kill, and repairing truncates the file to the intact lines', () => {
    const cut = JSON.stringify(result('c')).slice(0, 25);
    const dir = journal([header, result('a')], cut);
    const contents = readJournal(dir);
    expect(contents.results.map((r) => r.id)).toEqual(['a']);
    expect(contents.droppedBytes).toBe(25);
    repairJournal(contents);
    expect(readFileSync(join(dir, 'samples.jsonl'), 'utf8')).toBe(`${JSON.stringify(header)}\n${JSON.stringify(result('a'))}\n`);
  });

  it('keeps a last line that is whole but lost its newline, and adds the newline', () => {
    const dir = journal([header], JSON.stringify(result('a')));
    const contents = readJournal(dir);
    expect(contents.results.map((r) => r.id)).toEqual(['a']);
    repairJournal(contents);
    appendFileSync(join(dir, 'samples.jsonl'), `${JSON.stringify(result('b'))}\n`);
    expect(readJournal(dir).results.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('refuses a broken line that is not the last, naming it', () => {
    const dir = journal([header]);
    appendFileSync(join(dir, 'samples.jsonl'), '{"type":"res\n' + `${JSON.stringify(result('a'))}\n`);
    expect(() => readJournal(dir)).toThrow(ConformError);
    expect(() => readJournal(dir)).toThrow(/line 2 is not a journal entry/);
  });

  it('combines a backend over sessions: first identity, worst state, every reason', () => {
    const dir = journal([header, backend('ran', { coldStart: { spawnToHealthyMs: 5 } }), result('a'), { type: 'resume', at: 'x', recorded: 1 }, backend('ran', { identity: { engine: 'e', device: 'd' }, coldStart: { spawnToHealthyMs: 9 } }), backend('crashed', { reason: 'died', identity: { engine: 'e', device: 'd' } })]);
    const contents = readJournal(dir);
    expect(contents.resumes).toEqual([{ at: 'x', recorded: 1 }]);
    expect(contents.backends).toEqual([{ name: 'cpu', class: 'cpu', state: 'crashed', reason: 'died', identity: { engine: 'e', device: 'd' }, coldStart: { spawnToHealthyMs: 5 } }]);
    expect(continuedBackend({ name: 'a', class: 'c', state: 'unavailable', identity: {} }, { name: 'a', class: 'c', state: 'ran', identity: {} }).state).toBe('unavailable');
  });
});

describe('run fingerprints', () => {
  const base: FingerprintInput = {
    conformVersion: '0.1.0',
    config: { backends: [], suites: ['suites/*.yaml'], goldenDir: 'golden', reportsDir: 'reports', reference: 'cpu', cacheDir: '.cache' },
    suites: [{ name: 's', description: 'd', file: 'suites/s.yaml', cases: [] }],
    goldens: new Map(),
    planIds: ['a', 'b'],
  };
  const names = { configFile: 'conform.config.yaml', goldenDir: 'golden' };

  it('are equal for equal inputs and name every difference', () => {
    expect(fingerprintDifferences(runFingerprint(base), runFingerprint({ ...base }), names)).toEqual([]);
    const changed = runFingerprint({
      ...base,
      conformVersion: '0.2.0',
      config: { ...base.config, reference: 'vulkan' },
      suites: [{ ...base.suites[0]!, description: 'other' }, { name: 't', description: 'd', file: 'suites/t.yaml', cases: [] }],
      goldens: new Map([['s', { schemaVersion: 1, suite: 's', provenance: { backend: 'cpu', identity: {}, conformVersion: '0.1.0', recordedAt: 'x' }, samples: {} }]]),
    });
    expect(fingerprintDifferences(runFingerprint(base), changed, names)).toEqual([
      'it was started by conform 0.1.0, this is conform 0.2.0',
      'the config (conform.config.yaml) changed',
      'suite t is new',
      'suite s changed',
      'golden/s.json was re-recorded or removed',
    ]);
    expect(fingerprintDifferences(runFingerprint(base), runFingerprint({ ...base, planIds: ['a'] }), names)).toEqual(['the plan (backends, cases or shard) is not the same']);
  });
});
