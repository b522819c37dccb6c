import { describe, expect, it } from 'vitest';
import { buildSummary } from '../../src/core/summary.ts';
import type { CaseResult, Status } from '../../src/core/types.ts';

const result = (caseId: string, sloStatus: Status | undefined): CaseResult => ({
  id: caseId,
  backend: 'vulkan',
  suite: 'long-context',
  caseId,
  status: sloStatus === 'fail' ? 'fail' : 'pass',
  verdicts: [{ check: 'exact', status: 'pass', message: 'ok' }, ...(sloStatus ? [{ check: 'latency-slo', status: sloStatus, message: 'ttft' }] : [])],
});

describe('buildSummary', () => {
  it('counts goodput over the requests judged against latency SLOs only', () => {
    const summary = buildSummary({
      runId: 'r',
      conformVersion: '0.1.0',
      startedAt: '2026-11-28T00:00:00.000Z',
      finishedAt: '2026-11-28T00:01:00.000Z',
      backends: [{ name: 'vulkan', class: 'software-gpu', state: 'ran', identity: {} }],
      suites: ['long-context'],
      results: [result('a', 'pass'), result('b', 'fail'), result('c', 'pass'), result('d', undefined), result('e', 'skip')],
    });
    expect(summary.backends[0]!.goodput).toEqual({ judged: 3, met: 2 });
    expect(summary.totals).toEqual({ pass: 4, fail: 1, error: 0, skip: 0 });
  });
});
