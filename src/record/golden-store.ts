import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConformError } from '../core/errors.ts';
import { BUNDLED_GOLDEN_DIR } from '../config/package-files.ts';
import type { GoldenFile, Suite } from '../core/types.ts';

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

/**
 * A suite's golden: the project's own file wins; a bundled suite without one falls back to the
 * golden shipped with conform (recorded on the built-in cpu backend with the fixture model).
 */
export function readSuiteGolden(goldenDir: string, suite: Pick<Suite, 'name' | 'bundled'>): GoldenFile | undefined {
  return readGolden(goldenDir, suite.name) ?? (suite.bundled ? readGolden(BUNDLED_GOLDEN_DIR, suite.name) : undefined);
}

/** Writes through a temporary file and a rename, so an interrupted record never leaves half a golden file. */
export function writeGolden(goldenDir: string, golden: GoldenFile): string {
  mkdirSync(goldenDir, { recursive: true });
  const file = goldenPath(goldenDir, golden.suite);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(golden, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}
