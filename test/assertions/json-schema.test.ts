import { describe, expect, it } from 'vitest';
import { jsonSchema } from '../../src/assertions/json-schema.ts';
import type { Case, CheckSpec } from '../../src/core/types.ts';
import { chatCase, input, sample } from './samples.ts';

const CITY = {
  type: 'object',
  properties: {
    name: { type: 'string', enum: ['Lima', 'Oslo', 'Tokyo'] },
    rank: { type: 'integer', enum: [1, 2, 3] },
    coastal: { type: 'boolean' },
  },
  required: ['name', 'rank', 'coastal'],
};
const withResponseFormat = chatCase({
  id: 'json-schema-answer',
  params: { response_format: { type: 'json_schema', json_schema: { name: 'city', schema: CITY } } },
  checks: [{ kind: 'json-schema' }],
});
const judge = (text: string, testCase: Case = withResponseFormat, spec: CheckSpec = { kind: 'json-schema' }) =>
  jsonSchema.compare(input({ sample: sample({ text }), testCase, spec }));

describe('json-schema', () => {
  it('needs no reference', () => {
    expect(jsonSchema.needsReference).toBe(false);
  });

  it('passes output that validates against the response_format schema', () => {
    const v = judge('{"name":"Lima","rank":2,"coastal":true}');
    expect(v.status).toBe('pass');
    expect(v.check).toBe('json-schema');
  });

  it('fails output that is not JSON, quoting the output', () => {
    const v = judge('Lima is a city {');
    expect(v.status).toBe('fail');
    expect(v.measured).toBe('not JSON');
    expect(v.message).toContain('output is not JSON');
    expect(v.message).toContain('"Lima is a city {"');
  });

  it('fails JSON that breaks the schema, naming the JSON pointer', () => {
    const v = judge('{"name":"Lima","rank":"first","coastal":true}');
    expect(v.status).toBe('fail');
    expect(v.message).toContain('at "/rank"');
    expect(v.message).toContain('must be integer');
  });

  it('points at "/" when a required property is missing at the root', () => {
    const v = judge('{"name":"Oslo","rank":1}');
    expect(v.status).toBe('fail');
    expect(v.message).toContain('at "/"');
    expect(v.message).toContain("coastal");
  });

  it('fails a value outside an enum', () => {
    const v = judge('{"name":"Paris","rank":1,"coastal":false}');
    expect(v.status).toBe('fail');
    expect(v.message).toContain('at "/name"');
  });

  it('uses the check\'s own schema when it has one, over the response_format', () => {
    const spec = { kind: 'json-schema', schema: { type: 'array', items: { type: 'integer' } } };
    expect(judge('[1,2,3]', withResponseFormat, spec).status).toBe('pass');
    const v = judge('{"name":"Lima","rank":2,"coastal":true}', withResponseFormat, spec);
    expect(v.status).toBe('fail');
    expect(v.message).toContain('must be array');
  });

  it('errors when the case has no schema anywhere', () => {
    const plain = chatCase({ id: 'no-schema', params: { response_format: { type: 'json_object' } } });
    const v = judge('{}', plain);
    expect(v.status).toBe('error');
    expect(v.message).toContain('case no-schema has no schema');
  });
});

describe('json-schema with a schema ajv rejects', () => {
  it('gives an error verdict instead of aborting the run', () => {
    const testCase = chatCase({ params: { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'strnig' } } } } });
    const verdict = jsonSchema.compare(input({ sample: sample({ text: '"a"' }), testCase, spec: { kind: 'json-schema' } }));
    expect(verdict.status).toBe('error');
    expect(verdict.message).toMatch(/JSON Schema is itself invalid/);
  });
});
