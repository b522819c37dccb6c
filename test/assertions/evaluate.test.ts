import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateSample } from '../../src/assertions/evaluate.ts';
import { COMPARATORS } from '../../src/assertions/index.ts';
import { caseStatus } from '../../src/core/outcome.ts';
import type { Case, Sample } from '../../src/core/types.ts';
import { chatCase, provenance, sample, step, tokenSample, TOL } from './samples.ts';

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

  it('gives a non-ok sample exactly one verdict, an error or a fail by SHARED-TYPES.md rule 5 (item 11)', () => {
    const cases: Array<[Sample['kind'], { message: string; status?: number; code?: string }, 'error' | 'fail']> = [
      ['timeout', { message: 'boom' }, 'error'],
      ['crash', { message: 'boom' }, 'error'],
      ['http-error', { message: 'boom', status: 503 }, 'error'],
      ['http-error', { message: 'boom', status: 404 }, 'error'],
      ['http-error', { message: 'boom', status: 500 }, 'fail'],
      ['http-error', { message: 'boom', status: 400 }, 'fail'],
      ['protocol-error', { message: 'boom' }, 'fail'],
      ['protocol-error', { message: 'boom', code: 'body-too-large' }, 'error'],
    ];
    for (const [kind, error, status] of cases) {
      const verdicts = evaluate(sample({ kind, error }), answer, true);
      expect(verdicts).toHaveLength(1);
      expect(verdicts[0]).toMatchObject({ check: 'sample', status, measured: kind });
      expect(verdicts[0]!.message.startsWith(`${kind}: boom; `)).toBe(true);
    }
  });

  it('says "no details" for a non-ok sample without an error message', () => {
    expect(evaluate(sample({ kind: 'timeout' }), answer)[0]!.message).toMatch(/^timeout: no details; /);
  });

  it('fails a body cut at the cap that already holds more tokens than max_tokens, beside the error', () => {
    const cut = sample({ kind: 'protocol-error', text: 'x'.repeat(9 * 1024), error: { message: 'body over 64 MiB', code: 'body-too-large' } });
    const verdicts = evaluate(cut, answer, false, chatCase({ params: { max_tokens: 8 }, checks: [{ kind: 'greedy-divergence' }] }));
    expect(verdicts.map((v) => [v.check, v.status])).toEqual([['sample', 'error'], ['max-tokens', 'fail']]);
    expect(caseStatus(verdicts)).toBe('fail');
  });

  it('runs the implicit checks, then every check in order, on an ok sample', () => {
    const verdicts = evaluate(structuredClone(answer), answer, true);
    expect(verdicts.map((v) => [v.check, v.status])).toEqual([
      ['prompt-tokens', 'skip'],
      ['text-matches-tokens', 'pass'],
      ['json-schema', 'pass'],
      ['exact', 'pass'],
      ['greedy-divergence', 'pass'],
    ]);
    expect(caseStatus(verdicts)).toBe('pass');
  });

  it('runs an implicit check once, where the case names it', () => {
    const c = { ...testCase, params: { ...testCase.params, max_tokens: 8 }, checks: [...testCase.checks, { kind: 'max-tokens' }] };
    const kinds = evaluate(structuredClone(answer), answer, true, c).map((v) => v.check);
    expect(kinds.filter((k) => k === 'max-tokens')).toHaveLength(1);
    expect(kinds.at(-1)).toBe('max-tokens');
  });

  it('skips each reference-needing check when golden is missing, saying so, and still runs the others', () => {
    const verdicts = evaluate(structuredClone(answer), undefined);
    expect(verdicts.filter((v) => ['json-schema', 'exact', 'greedy-divergence'].includes(v.check)).map((v) => [v.check, v.status])).toEqual([
      ['json-schema', 'pass'],
      ['exact', 'skip'],
      ['greedy-divergence', 'skip'],
    ]);
    const exactVerdict = verdicts.find((v) => v.check === 'exact')!;
    expect(exactVerdict.message).toContain('no golden sample for case "json-answer"');
    expect(exactVerdict.message).toContain('conform record');
    expect(caseStatus(verdicts)).toBe('pass');
  });

  it('without golden, a reference-free failure decides the case (item 2)', () => {
    const prose = tokenSample([step('Lima', -0.1), step(' is', -0.2)]);
    const verdicts = evaluate(prose, undefined);
    expect(verdicts.find((v) => v.check === 'json-schema')!.status).toBe('fail');
    expect(verdicts.find((v) => v.check === 'exact')!.status).toBe('skip');
    expect(caseStatus(verdicts)).toBe('fail');
  });

  it('skips golden-relative checks of a case the reference could not serve, with its reason', () => {
    const verdicts = evaluateSample({ testCase, sample: structuredClone(answer), sameBackendAsReference: false, tolerance: TOL, referenceUnsupported: 'HTTP 400: logprobs is not supported with tools + stream', goldenProvenance: provenance() });
    const exactVerdict = verdicts.find((v) => v.check === 'exact')!;
    expect(exactVerdict.status).toBe('skip');
    expect(exactVerdict.message).toBe('golden has no sample of "json-answer": the reference (cpu) could not serve it: HTTP 400: logprobs is not supported with tools + stream');
    expect(verdicts.find((v) => v.check === 'json-schema')!.status).toBe('pass');
    expect(caseStatus(verdicts)).toBe('pass');
  });

  it('with golden from another model, fails once on the model and compares nothing else with golden (item 9)', () => {
    const verdicts = evaluateSample({
      testCase, sample: structuredClone(answer), reference: answer, sameBackendAsReference: false, tolerance: TOL,
      goldenProvenance: provenance({ model: 'conform-tiny', modelSha256: 'a'.repeat(64) }), identity: { model: 'qwen', modelSha256: 'b'.repeat(64) },
    });
    expect(verdicts[0]).toMatchObject({ check: 'model', status: 'fail' });
    expect(verdicts.find((v) => v.check === 'greedy-divergence')).toMatchObject({ status: 'skip', message: 'not compared with golden: golden was recorded with another model (see the model verdict)' });
    expect(verdicts.find((v) => v.check === 'json-schema')!.status).toBe('pass');
  });

  it('points at the prompt, not the kernels, when the prompt token counts differ (item 15)', () => {
    const golden = { ...answer, usage: { promptTokens: 119, completionTokens: 2 } };
    const flipped = tokenSample([step('{"no":', -0.1), step('1}', -0.2)], { usage: { promptTokens: 75, completionTokens: 2 } });
    const verdicts = evaluate(flipped, golden);
    expect(verdicts.find((v) => v.check === 'prompt-tokens')).toMatchObject({ status: 'fail', measured: 75, threshold: 119 });
    expect(verdicts.find((v) => v.check === 'greedy-divergence')).toMatchObject({ status: 'skip' });
    expect(verdicts.find((v) => v.check === 'greedy-divergence')!.message).toContain('read 75 prompt tokens, golden 119');
    expect(caseStatus(verdicts)).toBe('fail');
  });

  it('adds reasoning-split where either side reasoned: tokens equal, the split moved (item 10)', () => {
    const moved = { ...structuredClone(answer), reasoning: '{"ok":', text: 'true}' };
    const verdicts = evaluate(moved, answer, false);
    expect(verdicts.find((v) => v.check === 'greedy-divergence')!.status).toBe('pass');
    expect(verdicts.find((v) => v.check === 'reasoning-split')!.status).toBe('fail');
    expect(caseStatus(verdicts)).toBe('fail');
  });

  it('errors an unknown check kind and lists the known ones', () => {
    const verdicts = evaluate(answer, answer, true, chatCase({ checks: [{ kind: 'exakt' }] }));
    const unknown = verdicts.filter((v) => v.check === 'exakt');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.status).toBe('error');
    expect(unknown[0]!.message).toContain('unknown check kind "exakt"');
    expect(unknown[0]!.message).toContain('greedy-divergence');
  });

  it('passes the reference-backend flag through: exact skips elsewhere', () => {
    const other = tokenSample([step('{"ok":', -0.1), step('false}', -0.2)]);
    const verdicts = evaluate(other, answer, false);
    expect(verdicts.find((v) => v.check === 'exact')!.status).toBe('skip');
    expect(evaluate(other, answer, true).find((v) => v.check === 'exact')!.status).toBe('fail');
  });
});
