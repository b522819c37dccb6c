import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSummary } from '../../src/core/summary.ts';
import { describeRunRecord } from '../../src/vitest/index.ts';

// A small run record with one pass and one skip: describeRunRecord must turn it into a tree in
// which the passing case is a passing test and the skip is a skipped one (a failing case would
// fail this file, which is the point of browsing it in @vitest/ui).
const summary = buildSummary({
  runId: 'vitest-tree',
  conformVersion: '0.1.0',
  startedAt: '2026-11-28T00:00:00.000Z',
  finishedAt: '2026-11-28T00:01:00.000Z',
  backends: [{ name: 'cpu', class: 'cpu', state: 'ran', identity: {} }],
  suites: ['smoke'],
  results: [
    { id: 'a', backend: 'cpu', suite: 'smoke', caseId: 'chat-hello', status: 'pass', verdicts: [{ check: 'exact', status: 'pass', message: 'identical' }] },
    { id: 'b', backend: 'cpu', suite: 'smoke', caseId: 'ctx-32k', status: 'skip', verdicts: [{ check: 'requirements', status: 'skip', message: 'capped' }] },
  ],
});
const file = join(mkdtempSync(join(tmpdir(), 'conform-vitest-')), 'summary.json');
writeFileSync(file, JSON.stringify(summary));
describeRunRecord(file);
