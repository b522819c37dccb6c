// Materializes the fixture model on disk once per content hash, safely under concurrent test workers.

import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFixtureModel, fixtureModelSha256, type FixturePrecision } from './create-fixture-model.ts';

const built = new Map<FixturePrecision, { bytes: Uint8Array; sha256: string }>();

/**
 * Content-addressed and written via rename, so a reader never sees a half-written file and reruns skip the write.
 * The f32 reference is `conform-tiny-<sha12>.gguf`; another precision is `conform-tiny-<precision>-<sha12>.gguf`.
 */
export async function ensureFixtureModel(cacheDir: string, precision: FixturePrecision = 'f32'): Promise<{ path: string; sha256: string }> {
  // The name depends on the content, so the bytes are needed even to find an existing file; build once per process.
  let entry = built.get(precision);
  if (!entry) {
    const bytes = buildFixtureModel(precision);
    built.set(precision, (entry = { bytes, sha256: fixtureModelSha256(bytes) }));
  }
  const { bytes, sha256 } = entry;
  const path = join(cacheDir, `conform-tiny-${precision === 'f32' ? '' : `${precision}-`}${sha256.slice(0, 12)}.gguf`);
  try {
    await access(path);
    return { path, sha256 };
  } catch {
    // missing: fall through and write it
  }
  await mkdir(cacheDir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { path, sha256 };
}
