import type { Ajv as AjvInstance, ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PRECOMPILED, schemaHash, type SchemaName } from './precompiled-validators.ts';

const require = createRequire(import.meta.url);
const cache = new Map<string, ValidateFunction>();
const texts = new Map<SchemaName, string>();

function schemaText(name: SchemaName): string {
  let text = texts.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8');
    texts.set(name, text);
  }
  return text;
}

const readSchema = (name: SchemaName) => JSON.parse(schemaText(name)) as { $id?: string };

type Precompiled = Record<string, ValidateFunction> & { schemaHashes?: Record<string, string> };

/**
 * A validator the build made ahead of time (schema-standalone.ts), when it exists and was made from the
 * schema text on disk now; undefined otherwise, and the caller compiles. Running from the sources, there is none.
 */
function precompiled(kind: keyof typeof PRECOMPILED, name: SchemaName, exportName: string): ValidateFunction | undefined {
  let module: Precompiled;
  try {
    module = require(`./${PRECOMPILED[kind].file}`) as Precompiled;
  } catch {
    return undefined;
  }
  return module.schemaHashes?.[name] === schemaHash(schemaText(name)) ? module[exportName] : undefined;
}

// Loaded only when a validator has to be compiled here: loading Ajv costs a start about 0.1 s.
let ajvs: { all: AjvInstance; first: AjvInstance } | undefined;
function compilers(): { all: AjvInstance; first: AjvInstance } {
  if (!ajvs) {
    const { Ajv } = require('ajv') as typeof import('ajv');
    // Stops at the first error: telling valid from invalid costs microseconds, where collecting every error of
    // every oneOf branch over thousands of broken cases took seconds.
    ajvs = { all: new Ajv({ allErrors: true, strict: false }), first: new Ajv({ allErrors: false, strict: false }) };
  }
  return ajvs;
}

/** Loads a published schema from schemas/ once; the same file editors use through $schema. Reports every error. */
export function publishedSchemaValidator(name: SchemaName): ValidateFunction {
  let validate = cache.get(name);
  if (!validate) {
    validate = precompiled('allErrors', name, name) ?? compilers().all.compile(readSchema(name));
    cache.set(name, validate);
  }
  return validate;
}

/**
 * A fast yes/no validator for a published schema, or for one of its definitions (`case` of the suite
 * schema): it stops at the first error, so use publishedSchemaValidator to explain a failure.
 */
export function firstErrorValidator(name: SchemaName, definition?: string): ValidateFunction {
  const key = `${name}#${definition ?? ''}`;
  let validate = cache.get(key);
  if (!validate) {
    validate = precompiled('firstError', name, definition ? `${name}#${definition}` : name) ?? compileFirstError(name, definition);
    cache.set(key, validate);
  }
  return validate;
}

function compileFirstError(name: SchemaName, definition: string | undefined): ValidateFunction {
  const { first } = compilers();
  const schema = readSchema(name);
  const id = schema.$id ?? name;
  if (!first.getSchema(id)) first.addSchema(schema, id);
  return definition ? first.compile({ $ref: `${id}#/definitions/${definition}` }) : first.getSchema(id)!;
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
