import type { Ajv as AjvInstance, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import type { Case, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'json-schema';
const compiled = new WeakMap<object, ValidateFunction>();
// Loaded the first time a case has a schema: loading Ajv costs every start about 0.1 s, and most runs never need it.
let ajv: AjvInstance | undefined;
const compiler = (): AjvInstance => {
  if (!ajv) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new Ajv({ allErrors: true, strict: false });
  }
  return ajv;
};

/**
 * Compiling is the slow part of ajv; schemas are reused across backends and repeats. A schema
 * ajv rejects comes back as an error string: a typo in one case must not abort the whole run.
 */
export function validatorFor(schema: Record<string, unknown>): ValidateFunction | string {
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = compiler().compile(schema);
    } catch (error) {
      return `the case's JSON Schema is itself invalid: ${(error as Error).message}`;
    }
    compiled.set(schema, validate);
  }
  return validate;
}

function schemaOf(testCase: Case, spec: Record<string, unknown>): Record<string, unknown> | undefined {
  if (spec.schema && typeof spec.schema === 'object') return spec.schema as Record<string, unknown>;
  const format = testCase.params.response_format;
  return format?.type === 'json_schema' ? format.json_schema.schema : undefined;
}

/** Output must parse as JSON and validate against the case's schema (its own or response_format's). */
export const jsonSchema: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ sample, testCase, spec }): Verdict {
    const schema = schemaOf(testCase, spec);
    if (!schema) return { check: CHECK, status: 'error', message: `case ${testCase.id} has no schema: give the check a "schema" or the case a response_format json_schema` };
    let value: unknown;
    try {
      value = JSON.parse(sample.text);
    } catch (error) {
      return { check: CHECK, status: 'fail', measured: 'not JSON', threshold: 'valid JSON', message: `output is not JSON (${(error as Error).message}): ${JSON.stringify(sample.text.slice(0, 60))}` };
    }
    const validate = validatorFor(schema);
    if (typeof validate === 'string') return { check: CHECK, status: 'error', message: validate };
    if (validate(value)) return { check: CHECK, status: 'pass', measured: 'valid', threshold: 'schema', message: 'output validates against the schema' };
    const first = validate.errors?.[0];
    return {
      check: CHECK,
      status: 'fail',
      measured: `${validate.errors?.length ?? 0} errors`,
      threshold: 'schema',
      message: `output does not match the schema at "${first?.instancePath || '/'}": ${first?.message ?? 'invalid'}`,
      details: { errors: validate.errors },
    };
  },
};
