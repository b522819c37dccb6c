import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateSample } from '../../src/assertions/evaluate.ts';
import { COMPARATORS } from '../../src/assertions/index.ts';
import { caseStatus } from '../../src/core/outcome.ts';
import type { Case, Sample } from '../../src/core/types.ts';
import { chatCase, sample, step, tokenSample, TOL } from './samples.ts';

const SCHEMA = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
const testCase: Case = chatCase({
  id: 'json-answer',
  params: { response_format: { type: 'json_schema', json_schema: { name: 'ok', schema: SCHEMA } } },
  checks: [{ kind: 'json-schema' }, { kind: 'exact' }, { kind: 'greedy-divergence' }],
});
const answer = tokenSample([step('{"ok":', -0.1), step('true}', -0.2)]);
const evaluate = (s: Sample, reference: Sample | undefined, sameBackendAsReference = false, c: Case = testCase) =>
  evaluateSample({ testCase: c, sample: s, reference, sameBackendAsReference, tolerance: TOL });

describe('evaluateSample', () => {
  it('registers exactly the comparators the suite schema allows', () => {
    // Every kind a suite may name has a comparator, and every comparator can be named in a suite.
    const schema = JSON.parse(readFileSync(new URL('../../schemas/suite.schema.json', import.meta.url), 'utf8'));
    expect([...COMPARATORS.keys()].sort()).toEqual([...schema.definitions.check.properties.kind.enum].sort());
  });

  it('gives a non-ok sample exactly one error verdict, whatever the checks', () => {
    for (const kind of ['http-error', 'timeout', 'crash', 'protocol-error'] as const) {
      const verdicts = evaluate(sample({ kind, error: { message: 'boom', status: 500 } }), answer, true);
      expect(verdicts).toHaveLength(1);
      expect(verdicts[0]).toMatchObject({ check: 'sample', status: 'error', measured: kind, message: `${kind}: boom` });
    }
  });

  it('says "no details" for a non-ok sample without an error message', () => {
    expect(evaluate(sample({ kind: 'timeout' }), answer)[0]!.message).toBe('timeout: no details');
  });

  it('runs every check in order on an ok sample', () => {
    const verdicts = evaluate(structuredClone(answer), answer, true);
    expect(verdicts.map((v) => [v.check, v.status])).toEqual([
      ['json-schema', 'pass'],
      ['exact', 'pass'],
      ['greedy-divergence', 'pass'],
    ]);
    expect(caseStatus(verdicts)).toBe('pass');
  });

  it('errors each reference-needing check when golden is missing, and still runs the others', () => {
    const verdicts = evaluate(structuredClone(answer), undefined);
    expect(verdicts.map((v) => [v.check, v.status])).toEqual([
      ['json-schema', 'pass'],
      ['exact', 'error'],
      ['greedy-divergence', 'error'],
    ]);
    expect(verdicts[1]!.message).toContain('no golden sample for case "json-answer"');
    expect(verdicts[1]!.message).toContain('conform record');
    expect(caseStatus(verdicts)).toBe('error');
  });

  it('errors an unknown check kind and lists the known ones', () => {
    const verdicts = evaluate(answer, answer, true, chatCase({ checks: [{ kind: 'exakt' }] }));
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]!.status).toBe('error');
    expect(verdicts[0]!.message).toContain('unknown check kind "exakt"');
    expect(verdicts[0]!.message).toContain('greedy-divergence');
  });

  it('passes the reference-backend flag through: exact skips elsewhere', () => {
    const other = tokenSample([step('{"ok":', -0.1), step('false}', -0.2)]);
    const verdicts = evaluate(other, answer, false);
    expect(verdicts.find((v) => v.check === 'exact')!.status).toBe('skip');
    expect(evaluate(other, answer, true).find((v) => v.check === 'exact')!.status).toBe('fail');
  });
});
