import { createHash } from 'node:crypto';

// Where the build puts the published schemas' validators made ahead of time (schema-standalone.ts writes
// them, schema-validator.ts loads them), without loading Ajv to know it.

export type SchemaName = 'suite' | 'config';

/** The modules the build writes next to schema-validator.js: validators that report every error, and ones that stop at the first. */
export const PRECOMPILED = {
  allErrors: { file: 'validators-all-errors.generated.cjs' },
  firstError: { file: 'validators-first-error.generated.cjs' },
} as const;

/** The sha256 of a schema's text: a precompiled module records it, and is used only while the file on disk still has it. */
export const schemaHash = (text: string) => createHash('sha256').update(text).digest('hex');
