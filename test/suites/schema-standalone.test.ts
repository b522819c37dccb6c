import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BUNDLED_SUITES_DIR } from '../../src/config/package-files.ts';
import { schemaHash } from '../../src/suites/precompiled-validators.ts';
import { standaloneSource } from '../../src/suites/schema-standalone.ts';
import { firstErrorValidator, publishedSchemaValidator } from '../../src/suites/schema-validator.ts';
import { REPO } from '../helpers/conform-cli.ts';

// The build writes the schemas' validators as code (scripts/build.js); running from the sources, as the
// tests do, schema-validator.ts compiles them with Ajv instead. Both must judge every document alike.
const schemaText = (name: string) => readFileSync(join(REPO, 'schemas', `${name}.schema.json`), 'utf8');
const schemas = { suite: schemaText('suite'), config: schemaText('config') };

function load(source: string): Record<string, ValidateFunction> & { schemaHashes: Record<string, string> } {
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', source)(module, module.exports, createRequire(join(REPO, 'src', 'suites', 'x.js')));
  return module.exports as Record<string, ValidateFunction> & { schemaHashes: Record<string, string> };
}

const judged = (validate: ValidateFunction, value: unknown) => ({ valid: validate(value), errors: validate.errors ?? null });

const suites = readdirSync(BUNDLED_SUITES_DIR).map((file) => parse(readFileSync(join(BUNDLED_SUITES_DIR, file), 'utf8')) as Record<string, unknown>);
const first = suites[0]!;
const firstCase = (first.cases as Array<Record<string, unknown>>)[0]!;
const brokenSuites: unknown[] = [
  { ...first, cases: undefined },
  { ...first, suite: 7 },
  { ...first, extra: true },
  { ...first, cases: [{ ...firstCase, endpoint: 'nowhere' }] },
  { ...first, cases: [{ ...firstCase, params: { max_tokens: 'ten' } }] },
  { ...first, cases: [{ ...firstCase, checks: [{ kind: 7 }] }] },
  [],
  null,
];
const configs: unknown[] = [
  { backends: [{ name: 'a', class: 'cpu', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' }], suites: ['s/*.yaml'] },
  { backends: [{ name: 'a', class: 'cpu', model: 'm', baseUrl: 'http://127.0.0.1:1/v1', concurrency: 0 }], suites: ['s/*.yaml'] },
  { backends: 'cpu', suites: [] },
  { backends: [{ name: 'a', class: 'cpu', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' }], suites: ['s/*.yaml'], unknown: 1 },
  {},
];

describe('the precompiled schema validators', () => {
  const all = load(standaloneSource(schemas, true));
  const fast = load(standaloneSource(schemas, false));

  it('record the hashes of the schema text they were made from', () => {
    expect(all.schemaHashes).toEqual({ suite: schemaHash(schemas.suite), config: schemaHash(schemas.config) });
    expect(fast.schemaHashes).toEqual(all.schemaHashes);
  });

  it('judge suites, good and broken, as the validators compiled at run time do, errors included', () => {
    for (const value of [...suites, ...brokenSuites]) {
      expect(judged(all.suite!, value)).toEqual(judged(publishedSchemaValidator('suite'), value));
      expect(judged(fast.suite!, value).valid).toBe(judged(firstErrorValidator('suite'), value).valid);
    }
    expect(brokenSuites.every((value) => !all.suite!(value))).toBe(true);
    for (const value of [...(first.cases as unknown[]), { ...firstCase, endpoint: 'nowhere' }]) expect(fast['suite#case']!(value)).toBe(firstErrorValidator('suite', 'case')(value));
  });

  it('judge configs as the validator compiled at run time does, errors included', () => {
    for (const value of configs) expect(judged(all.config!, value)).toEqual(judged(publishedSchemaValidator('config'), value));
    expect(configs.map((value) => all.config!(value))).toEqual([true, false, false, false, false]);
  });
});
