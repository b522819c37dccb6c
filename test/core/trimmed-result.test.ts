import { describe, expect, it } from 'vitest';
import { referencedCaseIds } from '../../src/assertions/index.ts';
import { trimmedResult } from '../../src/core/trimmed-result.ts';
import type { Case, CaseResult, Sample } from '../../src/core/types.ts';

const sample: Sample = {
  kind: 'ok',
  text: 'the answer',
  reasoning: 'thinking',
  tokens: [{ token: 'the', id: 1, logprob: -0.1, top: [] }],
  toolCalls: [{ index: 0, id: 'c1', name: 'f', arguments: '{}' }],
  finishReason: 'stop',
  usage: { promptTokens: 3, completionTokens: 2 },
  timings: { firstByteMs: 1, firstTokenMs: 2, chunkMs: [2, 3], endMs: 4 },
  startedAt: '2026-12-02T00:00:00.000Z',
  streamed: true,
  deviations: ['x'],
  retries: 0,
};
const result = (status: CaseResult['status'], sampleLine: number | null = 7): CaseResult => ({ id: 'r', backend: 'b', suite: 's', caseId: 'c', status, sample, ...(sampleLine !== null && { sampleLine }), verdicts: [] });

describe('trimmedResult', () => {
  it('keeps a passing sample’s figures and lets go of its answer', () => {
    const trimmed = trimmedResult(result('pass'));
    expect(trimmed.sampleTrimmed).toBe(true);
    const { reasoning: _reasoning, ...figures } = sample;
    expect(trimmed.sample).toStrictEqual({ ...figures, text: '', tokens: [], toolCalls: [] });
    expect(trimmed.sample?.timings).toEqual(sample.timings);
    expect(trimmed.sample?.usage).toEqual(sample.usage);
  });

  it('keeps failures, errors and results with no journal line whole', () => {
    for (const r of [result('fail'), result('error'), result('pass', null)]) expect(trimmedResult(r)).toBe(r);
  });
});

describe('referencedCaseIds', () => {
  const testCase = (id: string, checks: Case['checks']) => ({ id, checks }) as Case;
  it('names the cases that matches-case and start-budget compare with, and no others', () => {
    const ids = referencedCaseIds([
      testCase('a', [{ kind: 'max-tokens' }]),
      testCase('b', [{ kind: 'matches-case', case: 'a' }]),
      testCase('warm', [{ kind: 'start-budget', coldCase: 'cold' }]),
      testCase('c', [{ kind: 'exact' }]),
    ]);
    expect([...ids].sort()).toEqual(['a', 'cold']);
  });
});
