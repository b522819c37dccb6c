import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConformError } from '../core/errors.ts';
import type { GoldenFile } from '../core/types.ts';

/** Where a suite's golden file lives. */
export function goldenPath(goldenDir: string, suite: string): string {
  return join(goldenDir, `${suite}.json`);
}

/** Reads a suite's golden file, or undefined when none was recorded yet. */
export function readGolden(goldenDir: string, suite: string): GoldenFile | undefined {
  const file = goldenPath(goldenDir, suite);
  if (!existsSync(file)) return undefined;
  let golden: GoldenFile;
  try {
    golden = JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;
  } catch (error) {
    throw new ConformError('GOLDEN_INVALID', `${file}: not valid JSON (${(error as Error).message}); re-record it with "conform record"`, { cause: error });
  }
  if (golden.schemaVersion !== 1 || golden.suite !== suite || typeof golden.samples !== 'object')
    throw new ConformError('GOLDEN_INVALID', `${file}: expected a golden file for suite "${suite}" with schemaVersion 1; re-record it with "conform record"`);
  const unsupported: unknown = golden.provenance?.unsupported;
  if (unsupported !== undefined && (unsupported === null || typeof unsupported !== 'object' || Array.isArray(unsupported) || Object.values(unsupported).some((reason) => typeof reason !== 'string')))
    throw new ConformError('GOLDEN_INVALID', `${file}: /provenance/unsupported must map case ids to one-line reasons; re-record it with "conform record"`);
  return golden;
}

/** Writes through a temporary file and a rename, so an interrupted record never leaves half a golden file. */
export function writeGolden(goldenDir: string, golden: GoldenFile): string {
  mkdirSync(goldenDir, { recursive: true });
  const file = goldenPath(goldenDir, golden.suite);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(golden, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}
