// Build-time only (scripts/build.js): the published schemas' validators as JavaScript source, so that an
// installed conform does not compile them with Ajv at every start (about 0.2 s of each `conform run` on
// this project's machine, plus loading Ajv itself). schema-validator.ts loads what this writes, and
// compiles at run time instead whenever it is missing or was made from other schema text.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { PRECOMPILED, schemaHash, type SchemaName } from './precompiled-validators.ts';

// Ajv's standalone module is CommonJS whose default export TypeScript cannot call through an ESM import.
const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone') as (ajv: Ajv, refs: Record<string, string>) => string;

/** CommonJS source exporting a validator per schema (name → schema text; `suite#case` too when stopping at the first error), plus `schemaHashes`. */
export function standaloneSource(schemas: Record<SchemaName, string>, allErrors: boolean): string {
  const ajv = new Ajv({ allErrors, strict: false, code: { source: true } });
  const exports: Record<string, string> = {};
  for (const [name, text] of Object.entries(schemas) as Array<[SchemaName, string]>) {
    const schema = JSON.parse(text) as { $id?: string };
    const id = schema.$id ?? name;
    ajv.addSchema(schema, id);
    exports[name] = id;
    if (!allErrors && name === 'suite') {
      ajv.addSchema({ $id: `${id}--case`, $ref: `${id}#/definitions/case` });
      exports['suite#case'] = `${id}--case`;
    }
  }
  const hashes = Object.fromEntries(Object.entries(schemas).map(([name, text]) => [name, schemaHash(text)]));
  return `${standaloneCode(ajv, exports)}\nexports.schemaHashes = ${JSON.stringify(hashes)};\n`;
}

/** Writes both precompiled modules into `dir` (dist/suites), from the schema files in `schemasDir`. */
export function writePrecompiledValidators(dir: string, schemasDir: string): void {
  const read = (name: SchemaName) => readFileSync(join(schemasDir, `${name}.schema.json`), 'utf8');
  const schemas = { suite: read('suite'), config: read('config') };
  writeFileSync(join(dir, PRECOMPILED.allErrors.file), standaloneSource(schemas, true));
  writeFileSync(join(dir, PRECOMPILED.firstError.file), standaloneSource(schemas, false));
}
