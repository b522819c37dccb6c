// llama.cpp's test-backend-ops as a source of op coverage. Its `--output sql` is the one format that
// carries both `supported` and `passed` (the CSV leaves `passed` out), one INSERT per case. Pure:
// parsing and summarizing; running the binary is run-test-backend-ops.ts.

import type { OpCoverageMode } from './types.ts';

export interface TestBackendOpsRow {
  backendName: string;
  opName: string;
  opParams: string;
  mode: string;
  supported: boolean;
  passed: boolean;
  errorMessage: string;
  buildCommit: string;
}

const INSERT = /^INSERT INTO test_backend_ops \(([^)]*)\) VALUES \((.*)\);\s*$/;

/**
 * The rows of test-backend-ops' SQL output. Values are written between single quotes without
 * escaping, so a line whose value count does not match its field count is counted, not guessed at.
 */
export function parseTestBackendOpsSql(text: string): { rows: TestBackendOpsRow[]; unparsed: number } {
  const rows: TestBackendOpsRow[] = [];
  let unparsed = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('INSERT INTO')) continue;
    const match = INSERT.exec(line);
    const fields = match?.[1]!.split(',').map((f) => f.trim()) ?? [];
    const values = match ? [...match[2]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!) : [];
    if (!match || values.length !== fields.length) {
      unparsed++;
      continue;
    }
    const get = (name: string) => values[fields.indexOf(name)] ?? '';
    rows.push({
      backendName: get('backend_name'),
      opName: get('op_name'),
      opParams: get('op_params'),
      mode: get('test_mode'),
      supported: get('supported') === '1',
      passed: get('passed') === '1',
      errorMessage: get('error_message'),
      buildCommit: get('build_commit'),
    });
  }
  return { rows, unparsed };
}

/**
 * Counts per op of one mode's rows. Support mode: ok = supported. Test mode: ok = supported and
 * matched the CPU (NMSE under the op's limit), failed = supported and did not; a case one of the two
 * backends does not support is `unsupported` (test-backend-ops names that backend instead of the one tested).
 */
export function summarizeOpCoverage(rows: TestBackendOpsRow[], mode: 'support' | 'test', ggmlBackend: string, command: string): OpCoverageMode {
  const perOp = new Map<string, { ok: number; notOk: number }>();
  let ok = 0;
  let failed = 0;
  let unsupported = 0;
  let buildCommit = '';
  for (const row of rows) {
    if (row.mode !== mode) continue;
    if (mode === 'support' && row.backendName !== ggmlBackend) continue;
    buildCommit ||= row.buildCommit;
    const counts = perOp.get(row.opName) ?? { ok: 0, notOk: 0 };
    perOp.set(row.opName, counts);
    const good = mode === 'support' ? row.supported : row.supported && row.passed;
    if (good) (ok++, counts.ok++);
    else {
      counts.notOk++;
      if (!row.supported) unsupported++;
      else failed++;
    }
  }
  const partial: OpCoverageMode['partial'] = {};
  for (const [op, counts] of [...perOp.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) if (counts.notOk > 0) partial[op] = counts;
  return {
    mode,
    ggmlBackend,
    cases: ok + failed + unsupported,
    ok,
    failed,
    unsupported,
    ops: perOp.size,
    opsFullyCovered: [...perOp.values()].filter((c) => c.notOk === 0).length,
    partial,
    incomplete: {},
    command,
    buildCommit,
  };
}

/** One summary from several runs of the same mode and device (one per op filter), adding their counts. */
export function mergeOpCoverage(parts: OpCoverageMode[]): OpCoverageMode {
  if (parts.length === 0) throw new RangeError('mergeOpCoverage needs at least one part');
  const partial: OpCoverageMode['partial'] = {};
  const incomplete: OpCoverageMode['incomplete'] = {};
  let opsFullyCovered = 0;
  let ops = 0;
  for (const part of parts) {
    for (const [op, counts] of Object.entries(part.partial)) {
      const seen = partial[op] ?? { ok: 0, notOk: 0 };
      partial[op] = { ok: seen.ok + counts.ok, notOk: seen.notOk + counts.notOk };
    }
    Object.assign(incomplete, part.incomplete);
    ops += part.ops;
    opsFullyCovered += part.opsFullyCovered;
  }
  const sum = (key: 'cases' | 'ok' | 'failed' | 'unsupported') => parts.reduce((s, p) => s + p[key], 0);
  return {
    mode: parts[0]!.mode,
    ggmlBackend: parts[0]!.ggmlBackend,
    cases: sum('cases'),
    ok: sum('ok'),
    failed: sum('failed'),
    unsupported: sum('unsupported'),
    ops,
    opsFullyCovered,
    partial,
    incomplete,
    command: parts.map((p) => p.command).join(' ; '),
    buildCommit: parts.find((p) => p.buildCommit)?.buildCommit ?? '',
  };
}
