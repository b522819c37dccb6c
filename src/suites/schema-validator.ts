import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';

const ajv = new Ajv({ allErrors: true, strict: false });
// Stops at the first error: telling valid from invalid costs microseconds, where collecting every error of
// every oneOf branch over thousands of broken cases took seconds.
const firstErrorAjv = new Ajv({ allErrors: false, strict: false });
const cache = new Map<string, ValidateFunction>();

function readSchema(name: 'suite' | 'config'): { $id?: string } {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8')) as { $id?: string };
}

/** Loads a published schema from schemas/ once; the same file editors use through $schema. Reports every error. */
export function publishedSchemaValidator(name: 'suite' | 'config'): ValidateFunction {
  let validate = cache.get(name);
  if (!validate) {
    validate = ajv.compile(readSchema(name));
    cache.set(name, validate);
  }
  return validate;
}

/**
 * A fast yes/no validator for a published schema, or for one of its definitions (`case` of the suite
 * schema): it stops at the first error, so use publishedSchemaValidator to explain a failure.
 */
export function firstErrorValidator(name: 'suite' | 'config', definition?: string): ValidateFunction {
  const key = `${name}#${definition ?? ''}`;
  let validate = cache.get(key);
  if (!validate) {
    const schema = readSchema(name);
    if (!firstErrorAjv.getSchema(schema.$id ?? name)) firstErrorAjv.addSchema(schema, schema.$id ?? name);
    validate = definition ? firstErrorAjv.compile({ $ref: `${schema.$id ?? name}#/definitions/${definition}` }) : firstErrorAjv.getSchema(schema.$id ?? name)!;
    cache.set(key, validate);
  }
  return validate;
}

/** ajv reports every branch of a oneOf; the deepest error is the one a person can act on. */
export function mostSpecificError(errors: ErrorObject[]): ErrorObject {
  return [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length || Number(a.keyword === 'oneOf') - Number(b.keyword === 'oneOf'))[0]!;
}

/** "must be integer" becomes "must be integer (got "ten")" and enum errors list what is allowed. */
export function describeError(error: ErrorObject, value: unknown): string {
  let text = `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`;
  if (error.keyword === 'enum') text += `: ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'additionalProperties') text += `: "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (value !== undefined && ['type', 'enum', 'pattern', 'minimum', 'maximum', 'const'].includes(error.keyword)) text += ` (got ${JSON.stringify(value)})`;
  return text;
}

/** Reads the value at a JSON pointer, for quoting what the user wrote. */
export function valueAtPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}
