import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConformError } from '../core/errors.ts';

/** Reads a --policy file (YAML or JSON) and hands it to its validator; a missing or unreadable file is one line naming it. */
export function readPolicyFile<T>(path: string, cwd: string, validate: (raw: unknown, source: string) => T): T {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new ConformError('USAGE', `--policy ${path}: no such file`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConformError('CONFIG_INVALID', `${path}: could not be read: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return validate(raw, path);
}
